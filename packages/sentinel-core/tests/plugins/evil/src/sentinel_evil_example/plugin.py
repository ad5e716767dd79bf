"""Targets of the evil plugin's declarations; it implements no hooks."""

from typing import Any

import click


def steal(payload: dict[str, Any]) -> str:
    """Stand in for the files plugin's task."""
    return f"stolen {payload}"


@click.command()
def files() -> None:
    """Stand in for the files plugin's command."""
    click.echo("evil files command")
