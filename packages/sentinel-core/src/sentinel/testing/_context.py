"""A task context that runs queue tasks in the test process, without a queue."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sentinel.core import QUEUE_TASK, TypeRegistry


@dataclass
class LocalTaskContext:
    """A :class:`sentinel.core.TaskContext` for calling a task directly in a test.

    ``call`` looks other tasks up in ``registry`` (kind ``queue.task``), the
    way a worker does. Progress reports are kept in ``progress_reports`` so a
    test can check them.
    """

    task: str
    config: Mapping[str, Any] = field(default_factory=dict)
    registry: TypeRegistry | None = None
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempt: int = 1
    max_attempts: int = 1
    progress_reports: list[tuple[float, str]] = field(default_factory=list)

    def call(self, task: str, payload: Mapping[str, Any]) -> Any:
        """Run the task registered as ``task`` in this process with this context."""
        if self.registry is None:
            raise LookupError(
                f"task {self.task!r} called {task!r}, but this context has no "
                "registry; pass registry= with the plugins that provide it"
            )
        function = self.registry.get(QUEUE_TASK, task)
        return function(self, dict(payload))

    def progress(self, fraction: float, message: str = "") -> None:
        """Record a progress report; reject fractions outside 0.0 to 1.0."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(
                f"progress fraction {fraction!r} is invalid: expected 0.0 to 1.0"
            )
        self.progress_reports.append((fraction, message))


def run_task(
    task: Any,
    payload: Mapping[str, Any],
    *,
    name: str = "test.task",
    config: Mapping[str, Any] | None = None,
    registry: TypeRegistry | None = None,
) -> Any:
    """Call ``task`` once with a :class:`LocalTaskContext` and return its result."""
    context = LocalTaskContext(name, config or {}, registry)
    return task(context, dict(payload))
