"""Close-to-notification latency of sentinel's watcher and of bare inotify."""

from __future__ import annotations

import inspect
import math
import os
import random
import shutil
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAYLOAD = b"id,name\n" + b"".join(b"%d,row %d\n" % (i, i) for i in range(200))
# Time to wait after the last file for a second, duplicate notification.
SETTLE_SECONDS = 0.5
# Each drop waits a random pause below this, so drops are not in phase with
# a watcher's timer (waiting for one notification and writing the next file
# at once would always land just after the timer fired).
MAX_PAUSE_SECONDS = 0.1


@dataclass(frozen=True)
class WatchCase:
    """One way of learning that a file was closed after writing."""

    name: str
    label: str


WATCH_CASES = (
    WatchCase("watch-inotify", "inotify_simple IN_CLOSE_WRITE (floor)"),
    WatchCase("watch-watchdog", "watchdog InotifyObserver on_closed"),
    WatchCase("watch-sentinel", "sentinel FolderWatcher handler"),
)


class Arrivals:
    """The first notification time of each file name, and how many came."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.counts: Counter[str] = Counter()
        self._changed = threading.Condition()

    def record(self, name: str) -> None:
        """Note one notification for ``name``, now."""
        now = time.perf_counter()
        with self._changed:
            self.counts[name] += 1
            self.first.setdefault(name, now)
            self._changed.notify_all()

    def wait(self, name: str, timeout: float) -> float | None:
        """Return when ``name`` was first notified, or None after ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: name in self.first, timeout)
            return self.first.get(name)


@contextmanager
def _inotify_simple(folder: Path, arrivals: Arrivals) -> Iterator[None]:
    from inotify_simple import INotify, flags

    notifier = INotify()
    notifier.add_watch(folder, flags.CLOSE_WRITE)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            for event in notifier.read(timeout=100):
                arrivals.record(event.name)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        notifier.close()


@contextmanager
def _watchdog(folder: Path, arrivals: Arrivals) -> Iterator[None]:
    from watchdog.events import FileClosedEvent, FileSystemEventHandler
    from watchdog.observers.inotify import InotifyObserver

    class Handler(FileSystemEventHandler):
        def on_closed(self, event: FileClosedEvent) -> None:
            arrivals.record(Path(os.fsdecode(event.src_path)).name)

    observer = InotifyObserver()
    observer.schedule(Handler(), str(folder), recursive=False)
    observer.start()
    try:
        yield
    finally:
        observer.stop()
        observer.join()


def _watcher_api() -> tuple[Any, Any]:
    import sentinel.files

    if hasattr(sentinel.files, "FolderWatcher"):
        return sentinel.files.FolderWatcher, sentinel.files.Route
    # NOTE: older releases keep the watcher out of the public names.
    from sentinel.files import _watcher

    return _watcher.FolderWatcher, _watcher.Route


def _watcher_options(
    folder_watcher: Any, quiet_seconds: float, settle_seconds: float
) -> dict[str, float]:
    options = {"quiet_seconds": quiet_seconds}
    # The settle period after a close exists only in newer watchers.
    if "settle_seconds" in inspect.signature(folder_watcher).parameters:
        options["settle_seconds"] = settle_seconds
    return options


@contextmanager
def _sentinel(folder: Path, arrivals: Arrivals, spec: dict[str, Any]) -> Iterator[None]:
    folder_watcher, route_class = _watcher_api()
    route = route_class(name="bench", folder=folder, recursive=False)

    def handler(ready: Any) -> None:
        arrivals.record(Path(ready.path).name)

    options = _watcher_options(
        folder_watcher, spec["quiet_seconds"], spec["settle_seconds"]
    )
    # Reported with the result: the wait after a close that is by design.
    spec["designed_wait"] = options.get("settle_seconds", 0.0)
    watcher = folder_watcher([(route, handler)], **options)
    watcher.start()
    try:
        yield
    finally:
        watcher.stop()


def _write_and_wait(
    folder: Path, count: int, arrivals: Arrivals, timeout: float
) -> list[float | None]:
    latencies: list[float | None] = []
    pauses = random.Random(count)  # noqa: S311 - timing jitter, not a secret
    for index in range(count):
        time.sleep(pauses.uniform(0, MAX_PAUSE_SECONDS))
        path = folder / f"drop-{index:05d}.csv"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(descriptor, PAYLOAD)
        # Timed from the start of close(), since the event can be read by
        # the other thread before close() returns here.
        closed = time.perf_counter()
        os.close(descriptor)
        arrived = arrivals.wait(path.name, timeout)
        latencies.append(None if arrived is None else arrived - closed)
    return latencies


def measure_latency(spec: dict[str, Any]) -> dict[str, Any]:
    """Drop files one at a time and time each close to its notification."""
    folder = Path(spec["folder"])
    # A kept work folder from an earlier run must not hold old drops.
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    arrivals = Arrivals()
    watch: Callable[[], Any] = {
        "watch-inotify": lambda: _inotify_simple(folder, arrivals),
        "watch-watchdog": lambda: _watchdog(folder, arrivals),
        "watch-sentinel": lambda: _sentinel(folder, arrivals, spec),
    }[spec["case"]]
    with watch():
        # Let the observer threads finish their start-up scans.
        time.sleep(0.2)
        latencies = _write_and_wait(folder, spec["count"], arrivals, spec["timeout"])
        time.sleep(SETTLE_SECONDS)
    result = summarize(latencies, arrivals.counts)
    result["designed_wait"] = spec.get("designed_wait", 0.0)
    return result


def summarize(latencies: list[float | None], counts: Counter[str]) -> dict[str, Any]:
    """Return median, p95 and max latency, misses and repeated notifications."""
    seen = sorted(value for value in latencies if value is not None)
    result: dict[str, Any] = {
        "files": len(latencies),
        "missed": len(latencies) - len(seen),
        "repeated": sum(count - 1 for count in counts.values() if count > 1),
        "median": None,
        "p95": None,
        "max": None,
    }
    if seen:
        result["median"] = statistics.median(seen)
        result["p95"] = seen[math.ceil(0.95 * len(seen)) - 1]
        result["max"] = seen[-1]
    return result
