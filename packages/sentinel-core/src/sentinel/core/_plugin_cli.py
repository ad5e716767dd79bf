"""The ``sentinel plugin`` command group: tools for plugin authors."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from sentinel.core._hookdocs import render_reference
from sentinel.core._scaffold import PluginNames, ScaffoldError, render_plugin


@click.group()
def plugin() -> None:
    """Create a plugin distribution and read the hook reference."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to create (default: ./sentinel-NAME).",
)
@click.option("--description", default="", help="One-line summary for pyproject.")
def new(name: str, directory: Path | None, description: str) -> None:
    """Create a plugin distribution named sentinel-NAME with a task and tests.

    The result installs with pip, appears in 'sentinel plugins' as NAME and
    passes its own tests with pytest.
    """
    try:
        names = PluginNames.from_name(name)
        destination = directory or Path.cwd() / names.distribution
        written = render_plugin(names, destination, description=description)
    except ScaffoldError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"created {names.distribution} in {destination}:")
    for path in written:
        click.echo(f"  {path.relative_to(destination)}")
    # The name sentinel-core on the public package index belongs to another
    # project. The interpreter that runs this command already has this
    # sentinel-core, so pip run by it does not look the name up.
    python = shlex.quote(sys.executable)
    click.echo(
        "next, inside that folder, with the Python that runs this sentinel:\n"
        f"  {python} -m pip install -e '.[test]' && {python} -m pytest"
    )


@plugin.command("docs")
def docs() -> None:
    """Print the hook reference (Markdown) generated from the hook specs."""
    click.echo(render_reference(), nl=False)
