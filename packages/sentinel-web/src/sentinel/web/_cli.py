"""The ``sentinel web`` command group."""

from __future__ import annotations

import logging
from pathlib import Path

import click

logger = logging.getLogger(__name__)


@click.group(name="web")
def web() -> None:
    """Serve the dashboard and its JSON API."""


@web.command()
@click.option("--host", default=None, help="Address to bind [default: web.host].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="TCP port from 0 to 65535, where 0 picks a free one [default: web.port].",
)
def serve(host: str | None, port: int | None) -> None:
    """Serve the dashboard until interrupted (Ctrl-C).

    Unlike 'sentinel run', it starts no queue or watcher, so the page shows
    only the plugins and events of this process.
    """
    from sentinel.core import Agent
    from sentinel.web._server import WebServer

    state = click.get_current_context().obj
    settings = state.config.section("web")
    agent = Agent(state.config, state.host, Path.cwd())
    server = WebServer(
        agent,
        host if host is not None else settings.get("host", "127.0.0.1"),
        port if port is not None else settings.get("port", 8765),
    )
    server.start()
    click.echo(f"dashboard at {server.url}")
    try:
        agent.stop_event.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
