"""Protocols shared by plugins that run or enqueue queue tasks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol


class TaskContext(Protocol):
    """What a running task knows about its job and can do besides its work."""

    @property
    def job_id(self) -> str:
        """Id of the job being run."""

    @property
    def task(self) -> str:
        """Registered name of the task being run."""

    @property
    def attempt(self) -> int:
        """Attempt number of this run, starting at 1."""

    @property
    def max_attempts(self) -> int:
        """Total number of attempts allowed, the first one included."""

    @property
    def config(self) -> Mapping[str, Any]:
        """The merged configuration of the worker."""

    def call(self, task: str, payload: Mapping[str, Any]) -> Any:
        """Run another registered task in this process with this context."""

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress between 0.0 and 1.0."""


Task = Callable[[TaskContext, dict[str, Any]], Any]


class JobQueue(Protocol):
    """The queue service that ``sentinel run`` provides to plugins as ``"queue"``."""

    def enqueue(
        self,
        task: str,
        payload: Mapping[str, Any],
        *,
        max_retries: int | None = None,
        unique_key: str | None = None,
    ) -> str:
        """Enqueue a job for a registered task and return its id."""

    def counts(self) -> dict[str, int]:
        """Count jobs by state: queued, active, delayed, done, failed."""

    def recent(self, state: str, limit: int = 50) -> list[dict[str, Any]]:
        """List up to ``limit`` jobs in one state.

        States are queued, active, delayed, done and failed; done and failed
        jobs come newest first.
        """
