"""Hook specifications that sentinel plugins implement.

A plugin is a module registered under the entry-point group ``sentinel``; its
functions decorated with :data:`sentinel.core.hookimpl` implement these hooks.
Hooks that return declarations (types, commands, config sections) return plain
data, so the host can list and validate plugins without importing their code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from sentinel.core._agent import Agent
    from sentinel.core._types import CommandSpec, ConfigSection, TypeSpec

PROJECT_NAME = "sentinel"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def sentinel_types() -> list[TypeSpec]:  # type: ignore[empty-body]
    """Return the types this plugin provides, by kind and name.

    Kinds used by the bundled plugins are ``file.format``, ``queue.task``,
    ``log.handler``, ``box.client``, ``web.routes`` and ``health.check``. Each
    type is an import target such as ``"sentinel.files._csv:CsvFile"``.
    """


@hookspec
def sentinel_commands() -> list[CommandSpec]:  # type: ignore[empty-body]
    """Return the top-level CLI commands this plugin adds to ``sentinel``.

    Each command is an import target of a ``click.Command``; it is imported
    only when the command runs or its help is shown.
    """


@hookspec
def sentinel_config_sections() -> list[ConfigSection]:  # type: ignore[empty-body]
    """Return the config sections this plugin owns, with their schema and defaults."""


@hookspec
def sentinel_startup(agent: Agent) -> None:
    """Start this plugin's services for ``sentinel run``.

    Called once per run, before :func:`sentinel_ready`. Provide services that
    other plugins use with ``agent.provide(name, service)``, and put settings
    that worker processes need into ``agent.runtime_env``.
    """


@hookspec
def sentinel_ready(agent: Agent) -> None:
    """Start consumers (workers, watchers, servers) once every service is up."""


@hookspec
def sentinel_shutdown(agent: Agent) -> None:
    """Stop what this plugin started when ``sentinel run`` exits.

    Called in pluggy's order, like the other phases: mark the implementation
    ``tryfirst`` to stop before others (a producer) or ``trylast`` to stop
    after them (a service that in-flight work still uses).
    """
