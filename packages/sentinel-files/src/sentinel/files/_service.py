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

        def enqueue(ready: ReadyFile) -> None:
            moved = {"moved_from": str(ready.moved_from)} if ready.moved_from else {}
            agent.events.record(
                "file", path=str(ready.path), route=ready.route, action="ready", **moved
            )
            payload = {
                "path": str(ready.path),
                "route": ready.route,
                "relative": ready.relative,
                "size": ready.size,
                "mtime_ns": ready.mtime_ns,
            }
            job_id = queue.enqueue("files.process", payload, unique_key=ready.key)
            logger.info("%r: enqueued as job %s", str(ready.path), job_id)

        for route in self.routes:
            route.processed.mkdir(parents=True, exist_ok=True)
            route.failed.mkdir(parents=True, exist_ok=True)
        state_file = self.state_dir / STATE_FILE if self.state_dir else None
        self.watcher = build_watcher(self.routes, self.settings, enqueue, state_file)
        self.watcher.start()

    def stop_watching(self) -> None:
        """Stop the watcher and the job follower if they run."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        if self.follower is not None:
            self.follower.stop()
            self.follower = None


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
        while True:
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001 - the queue may be stopping or restarting
                logger.warning("cannot read finished jobs from the queue: %s", exc)
            if self._stop.wait(self.interval):
                return

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


def count_files(folder: Path, exclude: tuple[Path, ...] = ()) -> int:
    """Count files below ``folder``, leaving out ``.reason.txt`` sidecars."""
    count = 0
    for root, dirs, names in os.walk(folder):
        base = Path(root)
        dirs[:] = [name for name in dirs if base / name not in exclude]
        count += sum(1 for name in names if not name.endswith(REASON_SUFFIX))
    return count
