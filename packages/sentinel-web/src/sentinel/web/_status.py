"""The status snapshot sent by the API and the stream: plugins, queue, folders."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sentinel.core import Agent

logger = logging.getLogger(__name__)

QUEUE_STATES = ("queued", "active", "delayed", "done", "failed")
FOLDER_STATES = ("inbox", "processed", "failed")


class StatusReader:
    """Read the status snapshot from the agent's plugins and services.

    The queue and files services do blocking I/O, so callers on an event loop
    run :meth:`read` in a worker thread. A service that fails is reported in
    the snapshot's ``problems`` and logged once until it recovers, because
    the live stream reads the status twice a second.
    """

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self._failing: set[str] = set()
        self._lock = threading.Lock()

    def read(self) -> dict[str, Any]:
        """Build the status snapshot; ``time`` is the epoch seconds of the read."""
        problems: list[str] = []
        return {
            "plugins": [info.as_dict() for info in self.agent.host.plugins],
            "queue": self._queue_counts(problems),
            "folders": self._folder_counts(problems),
            "problems": problems,
            "time": time.time(),
        }

    def _queue_counts(self, problems: list[str]) -> dict[str, int] | None:
        if not self.agent.has_service("queue"):
            return None
        try:
            counts = self.agent.service("queue").counts()
        except Exception as exc:  # noqa: BLE001 - a broken service must not stop the page
            self._report_failure("queue", exc, problems)
            return None
        self._report_recovery("queue")
        return {state: int(counts.get(state, 0)) for state in QUEUE_STATES}

    def _folder_counts(self, problems: list[str]) -> dict[str, dict[str, int]]:
        if not self.agent.has_service("files"):
            return {}
        try:
            routes = self.agent.service("files").folder_counts()
        except Exception as exc:  # noqa: BLE001 - a broken service must not stop the page
            self._report_failure("files", exc, problems)
            return {}
        self._report_recovery("files")
        return {
            str(route): {state: int(counts.get(state, 0)) for state in FOLDER_STATES}
            for route, counts in routes.items()
        }

    def _report_failure(
        self, service: str, exc: Exception, problems: list[str]
    ) -> None:
        # The page shows only the error type: messages of connection errors
        # can carry addresses with passwords, which belong in the log alone.
        problems.append(
            f"the {service} service failed ({type(exc).__name__}); see the agent log"
        )
        with self._lock:
            first = service not in self._failing
            self._failing.add(service)
        if first:
            logger.warning("%s service: reading its status failed: %s", service, exc)

    def _report_recovery(self, service: str) -> None:
        with self._lock:
            if service not in self._failing:
                return
            self._failing.discard(service)
        logger.info("%s service: reading its status works again", service)
