"""The queue plugin: the hooks of ``sentinel run``.

The ``queue`` config section and the ``sentinel queue`` and ``sentinel
redis`` commands are declared in plugin.toml beside this module, which the
host reads without importing it; the queue code is imported when a hook runs.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from sentinel.core import hookimpl, plugin_declarations

if TYPE_CHECKING:
    from sentinel.core import Agent

# The section is declared in plugin.toml; its defaults are read from there.
QUEUE_SECTION = plugin_declarations(__name__).section("queue")

_runtimes: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


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
