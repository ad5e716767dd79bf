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
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

logger = logging.getLogger(__name__)

TEMPORARY_PATTERNS = ("~$*", "*.part", "*.tmp", "*.swp", "*.crdownload")
ROUTE_QUEUE_SIZE = 256


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
    """A file whose writer is done, as reported to a route's handler."""

    path: Path
    route: str
    relative: str
    size: int
    mtime_ns: int

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


@dataclass(slots=True)
class _Pending:
    changed: float
    stat: tuple[int, int] | None = None
    closed: bool = False


class _RouteWorker:
    """Run one route's handler in its own thread, fed by a bounded queue."""

    def __init__(self, route: Route, handler: Handler) -> None:
        self.route = route
        self.handler = handler
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
                    "%s: handler of route %r failed", ready.path, self.route.name
                )


@dataclass
class _State:
    pending: dict[Path, _Pending] = field(default_factory=dict)
    reported: dict[Path, tuple[int, int]] = field(default_factory=dict)
    backlog: list[tuple[_RouteWorker, ReadyFile]] = field(default_factory=list)


class FolderWatcher:
    """Watch route folders and call each route's handler once per ready file.

    A file is ready after a close-after-write event, after it is renamed or
    moved into a folder, or after ``quiet_seconds`` without a change (the
    only signal in polling mode). Each version of a file, identified by path,
    size and mtime, is reported once. Files already in a folder at start are
    reported too. Temporary and hidden names are ignored until renamed.
    """

    def __init__(
        self,
        routes: Sequence[tuple[Route, Handler]],
        *,
        quiet_seconds: float = 1.0,
        polling: bool = False,
        poll_interval: float = 1.0,
    ) -> None:
        self.quiet_seconds = quiet_seconds
        self.polling = polling
        self.poll_interval = poll_interval
        self._workers = [_RouteWorker(route, handler) for route, handler in routes]
        self._state = _State()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._observer: Any = None
        self._ticker = threading.Thread(
            target=self._tick_loop, name="sentinel-watcher", daemon=True
        )

    @property
    def routes(self) -> list[Route]:
        """The watched routes, in the order they were given."""
        return [worker.route for worker in self._workers]

    def start(self) -> None:
        """Create missing folders, scan existing files and start watching."""
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        self._observer = (
            PollingObserver(timeout=self.poll_interval) if self.polling else Observer()
        )
        handler = _EventHandler(self)
        for folder, recursive in self._folders():
            folder.mkdir(parents=True, exist_ok=True)
            self._observer.schedule(handler, str(folder), recursive=recursive)
            logger.info(
                "%s: watching (%s, %s)",
                folder,
                "recursive" if recursive else "top level only",
                "polling" if self.polling else "file-system events",
            )
        for worker in self._workers:
            worker.thread.start()
        self._observer.start()
        # Scan after the observer starts so a file written in between is
        # seen by one or the other; duplicates are removed by the dedupe.
        for folder, recursive in self._folders():
            self._scan(folder, recursive)
        self._ticker.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching and let each route finish the file it is handling."""
        self._stop.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._ticker.is_alive():
            self._ticker.join(timeout)
        for worker in self._workers:
            if worker.thread.is_alive():
                worker.queue.put(None)
                worker.thread.join(timeout)
        logger.info("watcher stopped")

    def _folders(self) -> list[tuple[Path, bool]]:
        folders: dict[Path, bool] = {}
        for route in self.routes:
            folders[route.folder] = folders.get(route.folder, False) or route.recursive
        return list(folders.items())

    def _scan(self, folder: Path, recursive: bool) -> None:
        walker = os.walk(folder) if recursive else [(str(folder), [], _names(folder))]
        for root, _dirs, names in walker:
            for name in names:
                self.note_change(Path(root) / name, from_scan=True)

    def note_change(self, path: Path, *, from_scan: bool = False) -> None:
        """Record that ``path`` was created or modified; it waits for quiet."""
        if not self._wanted(path):
            return
        changed = time.monotonic()
        if from_scan:
            # A file untouched for the quiet period is ready at once.
            try:
                age = time.time() - path.stat().st_mtime
            except OSError:
                return
            changed -= max(0.0, age)
        with self._lock:
            entry = self._state.pending.get(path)
            if entry is None:
                self._state.pending[path] = _Pending(changed)
            else:
                entry.changed = max(entry.changed, changed)
                entry.closed = False

    def note_done(self, path: Path) -> None:
        """Record a close-after-write or a move into the folder: ready now."""
        if not self._wanted(path):
            return
        with self._lock:
            self._state.pending[path] = _Pending(time.monotonic(), closed=True)

    def note_gone(self, path: Path) -> None:
        """Forget a deleted or moved-away path and anything below it."""
        with self._lock:
            for known in [p for p in self._state.pending if p.is_relative_to(path)]:
                del self._state.pending[known]
            for known in [p for p in self._state.reported if p.is_relative_to(path)]:
                del self._state.reported[known]

    def note_directory(self, path: Path) -> None:
        """Scan a directory created in or moved into a watched folder."""
        self._scan(path, recursive=True)

    def _wanted(self, path: Path) -> bool:
        return any(worker.route.relative(path) is not None for worker in self._workers)

    def _tick_loop(self) -> None:
        interval = min(0.1, max(0.01, self.quiet_seconds / 4))
        while not self._stop.wait(interval):
            try:
                self._tick()
            except Exception:  # the watcher must outlive any single bad file
                logger.exception("watcher tick failed")

    def _tick(self) -> None:
        now = time.monotonic()
        ready: list[Path] = []
        with self._lock:
            for path, entry in list(self._state.pending.items()):
                if entry.closed or now - entry.changed >= self.quiet_seconds:
                    ready.append(path)
        for path in ready:
            self._check_ready(path, now)
        self._dispatch_backlog()

    def _check_ready(self, path: Path, now: float) -> None:
        try:
            stat = path.stat()
        except OSError:
            with self._lock:
                self._state.pending.pop(path, None)
            return
        version = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            entry = self._state.pending.get(path)
            if entry is None:
                return
            if not entry.closed and entry.stat != version:
                # The first check only records the stat; a file that changed
                # since an earlier check (unseen by a polling observer yet)
                # waits for another quiet period.
                if entry.stat is not None:
                    entry.changed = now
                entry.stat = version
                return
            del self._state.pending[path]
            if self._state.reported.get(path) == version:
                return
            self._state.reported[path] = version
        self._route(path, version)

    def _route(self, path: Path, version: tuple[int, int]) -> None:
        for worker in self._workers:
            relative = worker.route.relative(path)
            if relative is None:
                continue
            ready = ReadyFile(path, worker.route.name, relative, *version)
            logger.debug("%s: ready for route %r", path, worker.route.name)
            self._state.backlog.append((worker, ready))
            return

    def _dispatch_backlog(self) -> None:
        # A full route queue keeps its files here, so one slow route never
        # blocks the watcher or the other routes.
        waiting = []
        for worker, ready in self._state.backlog:
            try:
                worker.queue.put_nowait(ready)
            except queue.Full:
                waiting.append((worker, ready))
        self._state.backlog = waiting


def _names(folder: Path) -> list[str]:
    try:
        return [entry.name for entry in os.scandir(folder) if entry.is_file()]
    except OSError:
        return []


class _EventHandler(FileSystemEventHandler):
    """Translate watchdog events into watcher notes."""

    def __init__(self, watcher: FolderWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            self._handle(event)
        except Exception:  # watchdog stops its emitter on an exception
            logger.exception("%s: handling %s failed", event.src_path, event.event_type)

    def _handle(self, event: FileSystemEvent) -> None:
        src = Path(os.fsdecode(event.src_path))
        if isinstance(event, FileClosedEvent):
            self.watcher.note_done(src)
        elif isinstance(event, (FileCreatedEvent, FileModifiedEvent)):
            self.watcher.note_change(src)
        elif isinstance(event, FileMovedEvent):
            self.watcher.note_gone(src)
            self.watcher.note_done(Path(os.fsdecode(event.dest_path)))
        elif isinstance(event, DirMovedEvent):
            self.watcher.note_gone(src)
            self.watcher.note_directory(Path(os.fsdecode(event.dest_path)))
        elif isinstance(event, DirCreatedEvent):
            self.watcher.note_directory(src)
        elif isinstance(event, FileDeletedEvent) or event.event_type == "deleted":
            self.watcher.note_gone(src)


def watch_routes(
    routes: Iterable[tuple[Route, Handler]], **options: Any
) -> FolderWatcher:
    """Build and start a :class:`FolderWatcher` for ``routes``."""
    watcher = FolderWatcher(list(routes), **options)
    watcher.start()
    return watcher
