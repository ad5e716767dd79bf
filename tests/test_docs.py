"""Every hook, command and config key is documented; the hook reference is current."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from sentinel.core import Field, bootstrap
from sentinel.core._hookdocs import hook_docs
from sentinel.core.cli import CliState, cli

from .conftest import REPO

PLUGINS_MD = REPO / "docs" / "plugins.md"
DOC_FILES = [PLUGINS_MD, REPO / "README.md", *sorted(REPO.glob("packages/*/README.md"))]


@pytest.fixture(scope="module")
def docs_text() -> str:
    """The text of docs/plugins.md, the root README and every package README."""
    return "\n".join(path.read_text("utf-8") for path in DOC_FILES if path.is_file())


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's SENTINEL_* variables and ./sentinel.yaml out of the test."""
    for name in list(os.environ):
        if name.startswith("SENTINEL"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def command_paths(
    command: click.Command, ctx: click.Context, prefix: str
) -> Iterator[str]:
    """Yield ``prefix`` and the full path of every visible subcommand below it."""
    yield prefix
    if not isinstance(command, click.Group):
        return
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is None or sub.hidden:
            continue
        sub_ctx = click.Context(sub, info_name=name, parent=ctx)
        yield from command_paths(sub, sub_ctx, f"{prefix} {name}")


def config_keys(prefix: str, fields: dict[str, Field]) -> Iterator[str]:
    """Yield the dotted path of every key; keys of list items go under ``[]``."""
    for key, spec in fields.items():
        path = f"{prefix}.{key}"
        if spec.type == "section":
            # A nested section is documented through its keys.
            yield from config_keys(path, spec.fields)
            continue
        yield path
        if spec.fields:
            yield from config_keys(f"{path}[]", spec.fields)


def all_config_keys() -> list[str]:
    host, _config = bootstrap(environ={})
    keys = []
    for section in host.config_sections():
        keys.extend(config_keys(section.name, section.fields))
    return keys


def all_commands() -> list[str]:
    ctx = click.Context(cli, info_name="sentinel", obj=CliState())
    return list(command_paths(cli, ctx, "sentinel"))[1:]


def test_hook_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "docs" / "gen_plugins_md.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_every_hook_is_documented(docs_text: str) -> None:
    hooks = [hook.name for hook in hook_docs()]

    missing = [name for name in hooks if f"`{name}`" not in docs_text]

    assert hooks
    assert missing == [], f"hooks missing from docs/plugins.md: {missing}"


@pytest.mark.usefixtures("clean_environ")
def test_every_command_is_documented(docs_text: str) -> None:
    commands = all_commands()

    missing = [path for path in commands if not _mentions(docs_text, path)]

    assert "sentinel plugin new" in commands
    assert missing == [], f"commands missing from the docs: {missing}"


@pytest.mark.usefixtures("clean_environ")
def test_every_config_key_is_documented(docs_text: str) -> None:
    keys = all_config_keys()

    missing = [key for key in keys if f"`{key}`" not in docs_text]

    assert "queue.url" in keys
    assert missing == [], f"config keys missing from the docs: {missing}"


def test_command_walk_finds_nested_commands() -> None:
    group = click.Group(
        "top", commands=[click.Group("mid", commands=[click.Command("leaf")])]
    )

    paths = list(command_paths(group, click.Context(group), "top"))

    assert paths == ["top", "top mid", "top mid leaf"]


def test_config_keys_walk_sections_and_list_items() -> None:
    fields: dict[str, Any] = {
        "auth": Field("section", fields={"token": Field(str)}),
        "routes": Field(list, [], fields={"name": Field(str)}),
        "port": Field(int, 1),
    }

    keys = list(config_keys("box", fields))

    assert keys == [
        "box.auth.token",
        "box.routes",
        "box.routes[].name",
        "box.port",
    ]


def _mentions(text: str, command_path: str) -> bool:
    # A command counts as documented when its full path appears as words,
    # such as "sentinel queue worker" in a usage line or a heading.
    return re.search(rf"(?<![\w-]){re.escape(command_path)}(?![\w-])", text) is not None
