"""The queue plugin: config section, CLI group and the hooks of ``sentinel run``.

Only declarations live here; the queue code is imported when a hook runs.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from sentinel.core import CommandSpec, ConfigSection, Field, hookimpl

if TYPE_CHECKING:
    from sentinel.core import Agent

QUEUE_SECTION = ConfigSection(
    name="queue",
    help="The Redis job queue and its worker processes.",
    fields={
        "url": Field(
            str,
            None,
            "Redis URL such as redis://host:6379/0; null starts the embedded server.",
            nullable=True,
        ),
        "name": Field(str, "default", "Queue name; its keys share this hash tag."),
        "workers": Field(int, 2, "Worker processes that 'sentinel run' starts."),
        "max_retries": Field(int, 3, "Retries after a failed attempt."),
        "retry_backoff": Field(
            float, 1.0, "Seconds before the first retry; doubles for each next one."
        ),
        "lease_seconds": Field(
            float, 30.0, "Seconds a job stays leased without a heartbeat."
        ),
        "data_dir": Field(
            str, ".sentinel/redis", "Data folder of the embedded server."
        ),
        "concurrency": Field(
            int, 0, "Jobs of this queue running at once on all workers; 0: no limit."
        ),
        "rate_limit": Field(
            float, 0.0, "Jobs of this queue started per second; 0: no limit."
        ),
        "schedules": Field(
            list,
            [],
            "Periodic jobs: mappings of name, cron, task, timezone, payload.",
        ),
        "shutdown_grace": Field(
            float,
            20.0,
            "Seconds a stopping worker lets its job finish before handing it back.",
        ),
    },
)

_runtimes: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


@hookimpl
def sentinel_config_sections() -> list[ConfigSection]:
    """Declare the queue section."""
    return [QUEUE_SECTION]


@hookimpl
def sentinel_commands() -> list[CommandSpec]:
    """Declare the ``sentinel queue`` and ``sentinel redis`` command groups."""
    return [
        CommandSpec(
            "queue", "sentinel.queue._cli:group", "Run workers and inspect the queue."
        ),
        CommandSpec(
            "redis",
            "sentinel.queue._redis_cli:group",
            "Inspect the Redis server of the queue (SCAN only, never KEYS).",
        ),
    ]


@hookimpl
def sentinel_startup(agent: Agent) -> None:
    """Start the embedded server when no URL is set and provide the queue."""
    from sentinel.queue._runtime import QueueRuntime

    runtime = QueueRuntime(agent)
    _runtimes[agent] = runtime
    runtime.startup()


@hookimpl
def sentinel_ready(agent: Agent) -> None:
    """Start the worker processes and their supervisor."""
    runtime = _runtimes.get(agent)
    if runtime is not None:
        runtime.ready()


@hookimpl
def sentinel_shutdown(agent: Agent) -> None:
    """Stop the workers, then the embedded server, keeping queued jobs."""
    runtime = _runtimes.pop(agent, None)
    if runtime is not None:
        runtime.shutdown()
