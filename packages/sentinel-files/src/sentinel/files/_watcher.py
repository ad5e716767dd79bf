"""The folder watcher: report each file once its writer is done, per route."""

from __future__ import annotations

import fnmatch
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from sentinel.files._state import DeliveredState, Version

logger = logging.getLogger(__name__)

TEMPORARY_PATTERNS = ("~$*", "*.part", "*.tmp", "*.swp", "*.crdownload")
ROUTE_QUEUE_SIZE = 256
STATE_SAVE_INTERVAL = 0.5
MOVE_MEMORY_SECONDS = 60.0
# The timer sleeps until the earliest due time, but ticks at most this often:
# each tick scans every pending file, so a burst of thousands of files with
# due times microseconds apart must not cost one full scan per file.
MIN_TICK_GAP = 0.01
# A route queue that was full is retried this often.
BACKLOG_RETRY_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Route:
    """Files under ``folder`` whose names match ``patterns`` go to one handler."""

    name: str
    folder: Path
    patterns: tuple[str, ...] = ("*",)
    recursive: bool = True
    exclude: tuple[Path, ...] = ()

    def relative(self, path: Path) -> str | None:
        """Return ``path`` relative to the folder if this route takes it."""
        try:
            relative = path.relative_to(self.folder)
        except ValueError:
            return None
        parts = relative.parts
        if not parts or (len(parts) > 1 and not self.recursive):
            return None
        if any(path.is_relative_to(excluded) for excluded in self.exclude):
            return None
        if is_temporary(relative):
            return None
        text = relative.as_posix()
        name = parts[-1]
        for pattern in self.patterns:
            target = text if "/" in pattern else name
            if fnmatch.fnmatch(target, pattern):
                return text
        return None


@dataclass(frozen=True, slots=True)
class ReadyFile:
    """A file whose writer is done, as reported to a route's handler.

    ``moved_from`` is the earlier path when the file was renamed or moved
    from a watched folder rather than written.
    """

    path: Path
    route: str
    relative: str
    size: int
    mtime_ns: int
    inode: int = 0
    moved_from: Path | None = None

    @property
    def key(self) -> str:
        """The identity of this version of the file: path, size and mtime."""
        return f"{self.path}:{self.size}:{self.mtime_ns}"


def is_temporary(relative: Path) -> bool:
    """Tell whether a path is a temporary or hidden name that is not yet a file."""
    if any(part.startswith(".") for part in relative.parts):
        return True
    name = relative.name
    return any(fnmatch.fnmatch(name, pattern) for pattern in TEMPORARY_PATTERNS)


Handler = Callable[[ReadyFile], Any]

# Readiness rules of a pending file; see FolderWatcher.
CLOSED = "closed"
CHANGED = "changed"
SCANNED = "scanned"


@dataclass(slots=True)
class _Pending:
    changed: float
    how: str
    opened: int = 0
    moved_from: Path | None = None
    stat: Version | None = None
    # In polling mode, the monotonic time of the second look at the stat.
    recheck: float = 0.0


def due_time(
    entry: _Pending, *, polling: bool, quiet_seconds: float, settle_seconds: float
) -> float | None:
    """Return the monotonic time at which ``entry`` is checked for readiness.

    ``None`` means that only a later event can make it due: a file changed
    without a close event while a writer still has it open.
    """
    if polling:
        return max(entry.changed + quiet_seconds, entry.recheck)
    if entry.how == CHANGED:
        if entry.opened > 0:
            return None
        return entry.changed + quiet_seconds
    return entry.changed + settle_seconds


def seconds_until(due_times: Iterable[float | None], now: float, limit: float) -> float:
    """Return how long the timer may sleep: until the earliest due time.

    Times in the past give 0 and the result is at most ``limit``.
    """
    earliest = min((due for due in due_times if due is not None), default=None)
    if earliest is None:
        return limit
    return min(limit, max(0.0, earliest - now))


class _RouteWorker:
    """Run one route's handler in its own thread, fed by a bounded queue."""

    def __init__(self, route: Route, handler: Handler, state: DeliveredState) -> None:
        self.route = route
        self.handler = handler
        self.state = state
        self.queue: queue.Queue[ReadyFile | None] = queue.Queue(ROUTE_QUEUE_SIZE)
        self.thread = threading.Thread(
            target=self._run, name=f"sentinel-route-{route.name}", daemon=True
        )

    def _run(self) -> None:
        while True:
            ready = self.queue.get()
            if ready is None:
                return
            try:
                self.handler(ready)
            except Exception:  # a bad file or handler must not stop the route
                logger.exception(
                    "%r: handler of route %r failed", str(ready.path), self.route.name
                )
                continue
            self.state.deliver(ready.path, (ready.size, ready.mtime_ns, ready.inode))


@dataclass
class _Tracking:
    pending: dict[Path, _Pending] = field(default_factory=dict)
    reported: dict[Path, Version] = field(default_factory=dict)
    # Inodes of reported files that left a folder, to tell a move between
    # two watched folders (separate watches, so no paired event) from a
    # new file.
    gone: dict[int, tuple[Path, float]] = field(default_factory=dict)
    backlog: list[tuple[_RouteWorker, ReadyFile]] = field(default_factory=list)


class FolderWatcher:
    """Watch route folders and call each route's handler once per ready file.

    With file-system events, a file is ready ``settle_seconds`` after its
    last close-after-write or its rename into a folder, if no other event
    for it came since. A file that changes without open and close events
    (a hard link, ``touch``) is ready after ``quiet_seconds`` without a
    change, but never while a writer has it open. In polling mode, which
    sees no close events, a file is ready after ``quiet_seconds`` without a
    change. Each version of a file (path, size, mtime, inode) is reported
    once, also across restarts when ``state_file`` is given. Files already
    in a folder at start and files missed when the kernel queue overflows
    are found by a scan. Temporary and hidden names are ignored until
    renamed.
    """

    def __init__(
        self,
        routes: Sequence[tuple[Route, Handler]],
        *,
        quiet_seconds: float = 1.0,
        settle_seconds: float = 1.0,
        polling: bool = False,
        poll_interval: float = 1.0,
        state_file: Path | None = None,
    ) -> None:
        self.quiet_seconds = quiet_seconds
        self.settle_seconds = settle_seconds
        self.polling = polling
        self.poll_interval = poll_interval
        # In polling mode the stat is read twice, this far apart, before a
        # file is ready, to catch a change that the poller has not seen yet.
        self._recheck_delay = min(
            0.1, max(0.01, min(quiet_seconds, settle_seconds) / 4)
        )
        self.state = DeliveredState(state_file)
        self.rescans = 0
        self._workers = [
            _RouteWorker(route, handler, self.state) for route, handler in routes
        ]
        self._tracking = _Tracking()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # Set when an event makes a file due before the timer's wake-up time.
        self._wake = threading.Event()
        self._wake_at = 0.0
        self._observer: Any = None
        self._observer_started = False
        self._ticker = threading.Thread(
            target=self._tick_loop, name="sentinel-watcher", daemon=True
        )

    @property
    def routes(self) -> list[Route]:
        """The watched routes, in the order they were given."""
        return [worker.route for worker in self._workers]

    def start(self) -> None:
        """Create missing folders, scan existing files and start watching.

        If a folder cannot be created or watched, everything started so far
        is stopped before the error propagates.
        """
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        self.state.load()
        self._observer = (
            PollingObserver(timeout=self.poll_interval) if self.polling else Observer()
        )
        handler = _EventHandler(self)
        for folder, recursive in self._folders():
            folder.mkdir(parents=True, exist_ok=True)
            self._observer.schedule(handler, str(folder), recursive=recursive)
            logger.info(
                "%r: watching (%s, %s)",
                str(folder),
                "recursive" if recursive else "top level only",
                "polling" if self.polling else "file-system events",
            )
        for worker in self._workers:
            worker.thread.start()
        self._observer.start()
        self._observer_started = True
        # Scan after the observer starts so a file written in between is
        # seen by one or the other; the version check removes duplicates.
        for folder, recursive in self._folders():
            self.rescan(folder, recursive, count=False)
        self._ticker.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching and let each route finish the file it is handling."""
        self._stop.set()
        self._wake.set()
        if self._observer is not None and self._observer_started:
            self._observer.stop()
            self._observer.join(timeout)
        if self._ticker.is_alive():
            self._ticker.join(timeout)
        for worker in self._workers:
            if worker.thread.is_alive():
                worker.queue.put(None)
                worker.thread.join(timeout)
        self.state.save()
        logger.info("watcher stopped")

    def inject(self, event: FileSystemEvent) -> None:
        """Queue ``event`` in the running observer as if its emitter saw it."""
        for emitter in list(self._observer.emitters):
            if event.src_path == emitter.watch.path:
                emitter.queue_event(event)
                return
        raise LookupError(f"no watch for {event.src_path!r}")

    def _folders(self) -> list[tuple[Path, bool]]:
        folders: dict[Path, bool] = {}
        for route in self.routes:
            folders[route.folder] = folders.get(route.folder, False) or route.recursive
        return list(folders.items())

    def rescan(self, folder: Path, recursive: bool, *, count: bool = True) -> None:
        """Find files under ``folder`` that were not reported in their version.

        Used at start and after the kernel dropped events; files reported
        before, in this run or an earlier one, are skipped when unchanged.
        """
        if count:
            self.rescans += 1
            logger.warning("%r: events were lost; rescanning the folder", str(folder))
        with self._lock:
            for path, entry in self._tracking.pending.items():
                # Close events may be among the lost ones.
                if path.is_relative_to(folder) and entry.how == CHANGED:
                    entry.how = SCANNED
                    entry.opened = 0
                    self._schedule(entry)
        present: set[Path] = set()
        for path in _files(folder, recursive):
            present.add(path)
            self._note_scanned(path)
        self.state.forget_missing(folder, present)

    def _note_scanned(self, path: Path) -> None:
        if not self._is_watched(path):
            return
        version = _version(path)
        if version is None:
            return
        with self._lock:
            if self._tracking.reported.get(path) == version:
                return
            if path in self._tracking.pending:
                return
        if self.state.delivered(path) == version:
            with self._lock:
                self._tracking.reported[path] = version
            return
        # A file untouched for the settle period is ready at once.
        age = max(0.0, time.time() - version[1] / 1e9)
        with self._lock:
            entry = self._tracking.pending.setdefault(
                path, _Pending(time.monotonic() - age, SCANNED)
            )
            self._schedule(entry)

    def note_change(self, path: Path) -> None:
        """Record that ``path`` was created or modified; it is not ready yet."""
        if not self._is_watched(path):
            return
        now = time.monotonic()
        with self._lock:
            entry = self._tracking.pending.get(path)
            if entry is None:
                entry = self._tracking.pending[path] = _Pending(now, CHANGED)
            else:
                entry.changed = now
                entry.how = CHANGED
            self._schedule(entry)

    def note_open(self, path: Path, delta: int) -> None:
        """Count an open (+1) or a close without writing (-1) of ``path``."""
        if not self._is_watched(path):
            return
        with self._lock:
            entry = self._tracking.pending.get(path)
            if entry is None and delta > 0:
                # A writer may open an existing file to append; its writes
                # must not count as quiet while it has the file open.
                entry = self._tracking.pending[path] = _Pending(
                    time.monotonic(), CHANGED
                )
            if entry is not None:
                entry.opened = max(0, entry.opened + delta)
                self._schedule(entry)

    def note_done(self, path: Path, moved_from: Path | None = None) -> None:
        """Record a close-after-write or a move into the folder."""
        if not self._is_watched(path):
            return
        with self._lock:
            entry = self._tracking.pending.get(path)
            if entry is None:
                entry = self._tracking.pending[path] = _Pending(0.0, CLOSED)
            entry.changed = time.monotonic()
            entry.how = CLOSED
            entry.opened = 0
            entry.moved_from = moved_from or entry.moved_from
            self._schedule(entry)

    def note_moved(self, source: Path, destination: Path) -> None:
        """Record a rename: forget ``source`` and report ``destination``."""
        was_watched = (
            self._is_watched(source) or self.state.delivered(source) is not None
        )
        self.note_gone(source)
        self.note_done(destination, source if was_watched else None)

    def note_gone(self, path: Path) -> None:
        """Forget a deleted or moved-away path and anything below it."""
        now = time.monotonic()
        with self._lock:
            version = self._tracking.reported.get(path)
            if version is not None:
                self._tracking.gone[version[2]] = (path, now)
            for mapping in (self._tracking.pending, self._tracking.reported):
                for known in [p for p in mapping if p.is_relative_to(path)]:
                    del mapping[known]
            for inode, (_old, when) in list(self._tracking.gone.items()):
                if now - when > MOVE_MEMORY_SECONDS:
                    del self._tracking.gone[inode]
        self.state.forget(path)

    def note_directory(self, path: Path) -> None:
        """Scan a directory created in or moved into a watched folder."""
        for file in _files(path, recursive=True):
            self._note_scanned(file)

    def _is_watched(self, path: Path) -> bool:
        return any(worker.route.relative(path) is not None for worker in self._workers)

    def _due_time(self, entry: _Pending) -> float | None:
        return due_time(
            entry,
            polling=self.polling,
            quiet_seconds=self.quiet_seconds,
            settle_seconds=self.settle_seconds,
        )

    def _schedule(self, entry: _Pending) -> None:
        # Called with the lock held after ``entry`` changed. Waking the
        # timer only for an earlier due time keeps a burst of events from
        # waking it once per event.
        due = self._due_time(entry)
        if due is not None and due < self._wake_at:
            self._wake_at = due
            self._wake.set()

    def _tick_loop(self) -> None:
        last_save = last_tick = time.monotonic()
        while True:
            since = time.monotonic() - last_tick
            if since < MIN_TICK_GAP and self._stop.wait(MIN_TICK_GAP - since):
                return
            if self._stop.is_set():
                return
            last_tick = time.monotonic()
            try:
                wait = self._tick()
                now = time.monotonic()
                if now - last_save >= STATE_SAVE_INTERVAL:
                    self.state.save()
                    last_save = now
            except Exception:  # the watcher must outlive any single bad file
                logger.exception("watcher tick failed")
                wait = STATE_SAVE_INTERVAL
            self._wake.wait(wait)
            self._wake.clear()

    def _tick(self) -> float:
        """Report the files that are due and return the seconds to sleep."""
        now = time.monotonic()
        due: list[Path] = []
        with self._lock:
            for path, entry in self._tracking.pending.items():
                when = self._due_time(entry)
                if when is not None and when <= now:
                    due.append(path)
        for path in due:
            self._check_ready(path, now)
        self._dispatch_backlog()
        limit = STATE_SAVE_INTERVAL
        now = time.monotonic()
        with self._lock:
            if self._tracking.backlog:
                limit = BACKLOG_RETRY_SECONDS
            due_times = [self._due_time(e) for e in self._tracking.pending.values()]
            wait = seconds_until(due_times, now, limit)
            # Events from here on wake the timer if they are due earlier.
            self._wake_at = now + wait
        return wait

    def _check_ready(self, path: Path, now: float) -> None:
        version = _version(path)
        if version is None:
            with self._lock:
                self._tracking.pending.pop(path, None)
            return
        with self._lock:
            entry = self._tracking.pending.get(path)
            if entry is None:
                return
            if self.polling and entry.stat != version:
                # The first check records the stat; a file that changed
                # since an earlier check, before the poller saw it, waits
                # for another quiet period.
                if entry.stat is not None:
                    entry.changed = now
                entry.stat = version
                entry.recheck = now + self._recheck_delay
                return
            del self._tracking.pending[path]
            if self._tracking.reported.get(path) == version:
                return
            self._tracking.reported[path] = version
            self._route(path, version, entry.moved_from)

    def _route(self, path: Path, version: Version, moved_from: Path | None) -> None:
        left = self._tracking.gone.pop(version[2], None)
        if moved_from is None and left is not None:
            moved_from = left[0]
        for worker in self._workers:
            relative = worker.route.relative(path)
            if relative is None:
                continue
            ready = ReadyFile(
                path, worker.route.name, relative, *version, moved_from=moved_from
            )
            logger.debug("%r: ready for route %r", str(path), worker.route.name)
            self._tracking.backlog.append((worker, ready))
            return

    def _dispatch_backlog(self) -> None:
        # A full route queue keeps its files here, so one slow route never
        # blocks the watcher or the other routes.
        with self._lock:
            backlog, self._tracking.backlog = self._tracking.backlog, []
        waiting = []
        for worker, ready in backlog:
            try:
                worker.queue.put_nowait(ready)
            except queue.Full:
                waiting.append((worker, ready))
        with self._lock:
            self._tracking.backlog[:0] = waiting


def _version(path: Path) -> Version | None:
    try:
        stat = path.stat()
    except OSError:
        try:
            # A dangling symbolic link is still reported, so that the
            # pipeline can move it to the failed folder with a reason.
            stat = path.lstat()
        except OSError:
            return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def _files(folder: Path, recursive: bool) -> Iterable[Path]:
    if recursive:
        for root, _dirs, names in os.walk(folder):
            base = Path(root)
            for name in names:
                yield base / name
        return
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_file() or entry.is_symlink():
            yield Path(entry.path)


class _EventHandler(FileSystemEventHandler):
    """Translate watchdog events into watcher notes."""

    def __init__(self, watcher: FolderWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            self._handle(event)
        except Exception:  # watchdog stops its emitter on an exception
            logger.exception(
                "%r: handling %s failed", str(event.src_path), event.event_type
            )

    def _handle(self, event: FileSystemEvent) -> None:
        src = Path(os.fsdecode(event.src_path))
        watcher = self.watcher
        if isinstance(event, FileClosedEvent):
            watcher.note_done(src)
        elif isinstance(event, FileOpenedEvent):
            watcher.note_open(src, +1)
        elif isinstance(event, FileClosedNoWriteEvent):
            watcher.note_open(src, -1)
        elif isinstance(event, (FileCreatedEvent, FileModifiedEvent, FileAttribEvent)):
            watcher.note_change(src)
        elif isinstance(event, FileMovedEvent):
            watcher.note_moved(src, Path(os.fsdecode(event.dest_path)))
        elif isinstance(event, DirMovedEvent):
            watcher.note_gone(src)
            if event.dest_path:
                watcher.note_directory(Path(os.fsdecode(event.dest_path)))
        elif isinstance(event, DirCreatedEvent):
            watcher.note_directory(src)
        elif isinstance(event, (FileDeletedEvent, DirDeletedEvent)):
            watcher.note_gone(src)
        elif isinstance(event, EventsLostEvent):
            watcher.rescan(src, recursive=True)


def watch_routes(
    routes: Iterable[tuple[Route, Handler]], **options: Any
) -> FolderWatcher:
    """Build and start a :class:`FolderWatcher` for ``routes``."""
    watcher = FolderWatcher(list(routes), **options)
    watcher.start()
    return watcher
