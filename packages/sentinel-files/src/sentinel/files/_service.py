"""The ``files`` service of ``sentinel run``: route folders, counts, the watcher."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentinel.files._pipeline import REASON_SUFFIX
from sentinel.files._watcher import FolderWatcher, ReadyFile, Route

if TYPE_CHECKING:
    from sentinel.core import Agent

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RouteFolders:
    """The inbox, processed and failed folders of one route, made absolute."""

    route: Route
    processed: Path
    failed: Path


class FilesService:
    """Count files per route folder and run the watcher that feeds the queue."""

    def __init__(self, routes: list[RouteFolders], settings: Mapping[str, Any]) -> None:
        self.routes = routes
        self.settings = settings
        self.watcher: FolderWatcher | None = None

    @classmethod
    def from_agent(cls, agent: Agent) -> FilesService:
        """Build the service from the agent's ``files`` settings."""
        settings = agent.settings.get("files") or {}
        return cls(build_routes(settings, agent.workdir), settings)

    def folder_counts(self) -> dict[str, dict[str, int]]:
        """Count data files (not ``.reason.txt``) in each route's folders."""
        return {
            folders.route.name: {
                "inbox": count_files(folders.route.folder, folders.route.exclude),
                "processed": count_files(folders.processed),
                "failed": count_files(folders.failed),
            }
            for folders in self.routes
        }

    def start_watching(self, agent: Agent) -> None:
        """Start the watcher; each ready file is recorded and enqueued."""
        queue = agent.service("queue")

        def enqueue(ready: ReadyFile) -> None:
            agent.events.record(
                "file", path=str(ready.path), route=ready.route, action="ready"
            )
            payload = {
                "path": str(ready.path),
                "route": ready.route,
                "relative": ready.relative,
            }
            job_id = queue.enqueue("files.process", payload, unique_key=ready.key)
            logger.info("%s: enqueued as job %s", ready.path, job_id)

        self.watcher = FolderWatcher(
            [(folders.route, enqueue) for folders in self.routes],
            quiet_seconds=float(self.settings.get("quiet_seconds", 1.0)),
            polling=bool(self.settings.get("polling", False)),
            poll_interval=float(self.settings.get("poll_interval", 1.0)),
        )
        for folders in self.routes:
            folders.processed.mkdir(parents=True, exist_ok=True)
            folders.failed.mkdir(parents=True, exist_ok=True)
        self.watcher.start()

    def stop_watching(self) -> None:
        """Stop the watcher if it runs."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None


def build_routes(settings: Mapping[str, Any], workdir: Path) -> list[RouteFolders]:
    """Turn the ``files.routes`` config into routes with absolute folders."""
    found = []
    for raw in settings.get("routes") or []:
        folder = (workdir / raw.get("folder", "inbox")).resolve()
        processed = (workdir / (raw.get("processed") or "processed")).resolve()
        failed = (workdir / (raw.get("failed") or "failed")).resolve()
        route = Route(
            name=str(raw.get("name") or folder.name),
            folder=folder,
            patterns=tuple(raw.get("patterns") or ["*"]),
            recursive=bool(raw.get("recursive", True)),
            # Output folders inside a watched folder must not feed it again.
            exclude=tuple(p for p in (processed, failed) if p.is_relative_to(folder)),
        )
        found.append(RouteFolders(route, processed, failed))
    return found


def count_files(folder: Path, exclude: tuple[Path, ...] = ()) -> int:
    """Count files below ``folder``, leaving out ``.reason.txt`` sidecars."""
    count = 0
    for root, dirs, names in os.walk(folder):
        base = Path(root)
        dirs[:] = [name for name in dirs if base / name not in exclude]
        count += sum(1 for name in names if not name.endswith(REASON_SUFFIX))
    return count
