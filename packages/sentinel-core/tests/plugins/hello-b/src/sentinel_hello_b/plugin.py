"""Hooks of the hello-b example plugin; its declarations are in plugin.toml."""

from __future__ import annotations

from typing import Any

import click

from sentinel.core import hookimpl


@click.command()
def hello() -> None:
    """Say which plugin answered."""
    click.echo("hello from b")


def greet(ctx: Any, payload: dict[str, Any]) -> str:
    """A queue task that both hello plugins declare under one name."""
    return "b"


@hookimpl
def sentinel_startup(agent: Any) -> None:
    """Implemented by both hello plugins, to show their call order."""
