"""Hooks of the hello-a example plugin; its declarations are in plugin.toml."""

from __future__ import annotations

from typing import Any

import click

from sentinel.core import hookimpl


@click.command()
def hello() -> None:
    """Say which plugin answered."""
    click.echo("hello from a")


def greet(ctx: Any, payload: dict[str, Any]) -> str:
    """A queue task that both hello plugins declare under one name."""
    return "a"


@hookimpl
def sentinel_startup(agent: Any) -> None:
    """Implemented by both hello plugins, to show their call order."""
