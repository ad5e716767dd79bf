"""The web plugin: the dashboard server of ``sentinel run``.

Its ``web`` config section and ``sentinel web`` command are declared in
plugin.toml beside this module, which the host reads without importing it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sentinel.core import hookimpl, plugin_declarations

if TYPE_CHECKING:
    from sentinel.core import Agent

logger = logging.getLogger(__name__)

SERVICE = "web"

# The section is declared in plugin.toml; its defaults are read from there.
WEB_SECTION = plugin_declarations(__name__).section("web")


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
