"""The ``files`` service of ``sentinel run``: route folders, counts, the watcher."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentinel.core import QUEUE_TASK, ConfigError
from sentinel.files._moves import REASON_SUFFIX
from sentinel.files._routes import RouteConfig, check_folders, check_tasks, load_routes
from sentinel.files._watcher import FolderWatcher, ReadyFile, Route

if TYPE_CHECKING:
    from sentinel.core import Agent, EventLog

logger = logging.getLogger(__name__)

STATE_FILE = "files-watcher.json"
FOLLOW_INTERVAL = 1.0
FOLLOW_BATCH = 200
# While the queue server cannot be reached, enqueueing is retried this often
# (seconds), and the job follower repeats its warning every this many failures.
ENQUEUE_RETRY_INTERVAL = 1.0
REPEAT_WARNING_EVERY = 60
MAX_SEEN_JOBS = 10_000
# Timing keys of the files section with the smallest value each accepts.
# Config loading checks the bounds that plugin.toml declares; this repeats
# them for a config built without those declarations.
TIMING_MINIMUMS = {"settle_seconds": 0.0, "quiet_seconds": 0.0, "poll_interval": 0.01}


class FilesService:
    """Count files per route folder, run the watcher and report job outcomes."""

    def __init__(
        self,
        routes: list[RouteConfig],
        settings: Mapping[str, Any],
        state_dir: Path | None = None,
    ) -> None:
        self.routes = routes
        self.settings = settings
        self.state_dir = state_dir
        self.watcher: FolderWatcher | None = None
        self.follower: JobFollower | None = None
        self.enqueuer: FileEnqueuer | None = None

    @classmethod
    def from_agent(cls, agent: Agent) -> FilesService:
        """Build the service from the agent's ``files`` settings.

        Raises :class:`RouteConfigError` naming the config key of the first
        invalid route setting.
        """
        settings = agent.settings.get("files") or {}
        check_timing(settings)
        routes = load_routes(settings, agent.workdir)
        check_folders(routes)
        check_tasks(routes, agent.host.registry.names(QUEUE_TASK))
        return cls(routes, settings, agent.state_dir)

    def folder_counts(self) -> dict[str, dict[str, int]]:
        """Count data files (not ``.reason.txt``) in each route's folders."""
        return {
            route.name: {
                "inbox": count_files(route.folder, route.exclude),
                "processed": count_files(route.processed),
                "failed": count_files(route.failed),
            }
            for route in self.routes
        }

    def start_watching(self, agent: Agent) -> None:
        """Start the watcher and the job follower of ``sentinel run``.

        Each ready file is recorded as a ``file`` event and enqueued; each
        finished ``files.process`` job is recorded as processed or failed.
        """
        queue = agent.service("queue")
        self.follower = JobFollower(queue, agent.events)
        self.follower.start()
        self.enqueuer = FileEnqueuer(queue, agent.events)
        for route in self.routes:
            route.processed.mkdir(parents=True, exist_ok=True)
            route.failed.mkdir(parents=True, exist_ok=True)
        state_file = self.state_dir / STATE_FILE if self.state_dir else None
        self.watcher = build_watcher(
            self.routes, self.settings, self.enqueuer, state_file
        )
        self.watcher.start()

    def stop_watching(self) -> None:
        """Stop the watcher and the job follower if they run.

        A file still waiting for the queue is removed from the watcher's
        record of delivered files, so the next run enqueues it.
        """
        if self.enqueuer is not None:
            self.enqueuer.stop()
        if self.watcher is not None:
            self.watcher.stop()
            if self.enqueuer is not None and self.enqueuer.abandoned:
                for path in self.enqueuer.abandoned:
                    self.watcher.state.forget(path)
                self.watcher.state.save()
            self.watcher = None
        self.enqueuer = None
        if self.follower is not None:
            self.follower.stop()
            self.follower = None


class FileEnqueuer:
    """The watcher's handler: enqueue one ``files.process`` job per ready file.

    It runs in the watcher's route threads. When the queue server cannot be
    reached, it logs one error per file and retries every
    ``retry_interval`` seconds until the job is enqueued or :meth:`stop` is
    called. The route's later files wait in the watcher meanwhile. Files
    given up at stop are listed in :attr:`abandoned`.
    """

    def __init__(
        self,
        queue: Any,
        events: EventLog,
        retry_interval: float = ENQUEUE_RETRY_INTERVAL,
    ) -> None:
        self.queue = queue
        self.events = events
        self.retry_interval = retry_interval
        # Errors after which a retry can succeed: the server is down or
        # restarting. A queue without the attribute is never retried.
        self.retry_errors: tuple[type[BaseException], ...] = tuple(
            getattr(queue, "connection_errors", ())
        )
        self.abandoned: list[Path] = []
        self._stop = threading.Event()

    def stop(self) -> None:
        """Make waiting handlers give up their files and return."""
        self._stop.set()

    def __call__(self, ready: ReadyFile) -> None:
        moved = {"moved_from": str(ready.moved_from)} if ready.moved_from else {}
        self.events.record(
            "file", path=str(ready.path), route=ready.route, action="ready", **moved
        )
        payload = {
            "path": str(ready.path),
            "route": ready.route,
            "relative": ready.relative,
            "size": ready.size,
            "mtime_ns": ready.mtime_ns,
        }
        failures = 0
        while True:
            try:
                job_id = self.queue.enqueue(
                    "files.process", payload, unique_key=ready.key
                )
            except self.retry_errors as exc:
                failures += 1
                if failures == 1:
                    logger.error(
                        "%r: cannot enqueue to queue %s (%s); retrying every %g s "
                        "until the queue server answers",
                        str(ready.path),
                        self.queue.name,
                        exc,
                        self.retry_interval,
                    )
                if self._stop.wait(self.retry_interval):
                    self._abandon(ready, failures)
                    return
                continue
            break
        if failures:
            logger.info(
                "%r: enqueued as job %s after %s",
                str(ready.path),
                job_id,
                count_attempts(failures, "failed attempt"),
            )
        else:
            logger.info("%r: enqueued as job %s", str(ready.path), job_id)

    def _abandon(self, ready: ReadyFile, failures: int) -> None:
        logger.warning(
            "%r: not enqueued after %s before the service stopped; the next "
            "sentinel run enqueues it",
            str(ready.path),
            count_attempts(failures, "attempt"),
        )
        self.abandoned.append(ready.path)


def check_timing(settings: Mapping[str, Any]) -> None:
    """Reject a timing setting that is not a number or is below its minimum."""
    for key, minimum in TIMING_MINIMUMS.items():
        value = settings.get(key)
        if value is None:
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or value < minimum:
            raise ConfigError(
                f"files.{key} is {value!r}; expected a number of seconds >= "
                f"{minimum:g}; set files.{key}: 1.0, for example"
            )


def build_watcher(
    routes: list[RouteConfig],
    settings: Mapping[str, Any],
    handler: Any,
    state_file: Path | None = None,
) -> FolderWatcher:
    """Build a watcher for validated routes with the ``files`` timing settings."""
    watched = [
        (
            Route(
                route.name, route.folder, route.patterns, route.recursive, route.exclude
            ),
            handler,
        )
        for route in routes
    ]
    return FolderWatcher(
        watched,
        quiet_seconds=float(settings.get("quiet_seconds", 1.0)),
        settle_seconds=float(settings.get("settle_seconds", 1.0)),
        polling=bool(settings.get("polling", False)),
        poll_interval=float(settings.get("poll_interval", 1.0)),
        state_file=state_file,
    )


class JobFollower:
    """Record finished ``files.process`` jobs as ``file`` events.

    The jobs run in worker processes, which cannot reach the agent's event
    log, so this thread reads the queue's done and failed lists instead.
    Jobs that finished before the follower started are skipped.
    """

    def __init__(
        self, queue: Any, events: EventLog, interval: float = FOLLOW_INTERVAL
    ) -> None:
        self.queue = queue
        self.events = events
        self.interval = interval
        self.started = time.time()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="sentinel-files-jobs", daemon=True
        )

    def start(self) -> None:
        """Start following in a daemon thread."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop following and wait for the thread to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while True:
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001 - the queue may be stopping or restarting
                failures += 1
                self._warn(failures, exc)
            else:
                if failures:
                    logger.info(
                        "reading finished jobs from queue %s again after %s",
                        self.queue.name,
                        count_attempts(failures, "failed attempt"),
                    )
                failures = 0
            if self._stop.wait(self.interval):
                return

    def _warn(self, failures: int, exc: Exception) -> None:
        """Log the first failure of a series and then every REPEAT_WARNING_EVERY."""
        if failures == 1:
            logger.warning(
                "cannot read finished jobs from queue %s: %s; retrying every %g s",
                self.queue.name,
                exc,
                self.interval,
            )
        elif failures % REPEAT_WARNING_EVERY == 0:
            logger.warning(
                "still cannot read finished jobs from queue %s after %d attempts: %s",
                self.queue.name,
                failures,
                exc,
            )

    def poll(self) -> int:
        """Record the newly finished jobs; return how many were recorded."""
        recorded = 0
        for state in ("done", "failed"):
            for job in reversed(self.queue.recent(state, FOLLOW_BATCH)):
                if self._first_sight(job) and self._record(job, state):
                    recorded += 1
        return recorded

    def _first_sight(self, job: Mapping[str, Any]) -> bool:
        if job.get("task") != "files.process" or job["id"] in self._seen:
            return False
        self._seen[job["id"]] = None
        while len(self._seen) > MAX_SEEN_JOBS:
            self._seen.popitem(last=False)
        return float(job.get("finished_at") or 0) >= self.started

    def _record(self, job: Mapping[str, Any], state: str) -> bool:
        payload = job.get("payload") or {}
        fields = {"path": payload.get("path"), "route": payload.get("route")}
        if state == "failed":
            self.events.record(
                "file", action="failed", reason=job.get("error"), **fields
            )
            return True
        result = job.get("result") or {}
        if result.get("status") != "processed":
            return False
        self.events.record(
            "file",
            action="processed",
            reason=f"moved to {result.get('path')}",
            **fields,
        )
        return True


def count_attempts(count: int, noun: str) -> str:
    """Return ``1 failed attempt`` or ``3 failed attempts``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def count_files(folder: Path, exclude: tuple[Path, ...] = ()) -> int:
    """Count files below ``folder``, leaving out ``.reason.txt`` sidecars."""
    count = 0
    for root, dirs, names in os.walk(folder):
        base = Path(root)
        dirs[:] = [name for name in dirs if base / name not in exclude]
        count += sum(1 for name in names if not name.endswith(REASON_SUFFIX))
    return count
