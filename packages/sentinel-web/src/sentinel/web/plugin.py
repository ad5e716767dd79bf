"""The web plugin: the ``web`` config section, CLI group and dashboard server."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sentinel.core import CommandSpec, ConfigSection, Field, hookimpl

if TYPE_CHECKING:
    from sentinel.core import Agent

logger = logging.getLogger(__name__)

SERVICE = "web"

WEB_SECTION = ConfigSection(
    name="web",
    help="The dashboard and JSON API that 'sentinel run' serves.",
    fields={
        "host": Field(
            str,
            "127.0.0.1",
            "Address the dashboard binds to; keep 127.0.0.1 unless a proxy in "
            "front of it adds authentication.",
        ),
        "port": Field(int, 8765, "TCP port of the dashboard; 0 picks a free port."),
    },
)


@hookimpl
def sentinel_config_sections() -> list[ConfigSection]:
    """Declare the web section."""
    return [WEB_SECTION]


@hookimpl
def sentinel_commands() -> list[CommandSpec]:
    """Declare the ``sentinel web`` command group."""
    return [CommandSpec("web", "sentinel.web._cli:web", "Serve the dashboard.")]


@hookimpl
def sentinel_ready(agent: Agent) -> None:
    """Start the dashboard server and provide it as the ``web`` service."""
    import click

    from sentinel.web._server import WebServer

    settings = agent.config.section("web")
    server = WebServer(
        agent,
        settings.get("host", WEB_SECTION.fields["host"].default),
        settings.get("port", WEB_SECTION.fields["port"].default),
    )
    server.start()
    agent.provide(SERVICE, server)
    # Printed rather than logged, so the address shows whatever the log level.
    click.echo(f"dashboard at {server.url}")


@hookimpl
def sentinel_shutdown(agent: Agent) -> None:
    """Stop the dashboard server if this plugin started it."""
    if agent.has_service(SERVICE):
        agent.service(SERVICE).stop()
