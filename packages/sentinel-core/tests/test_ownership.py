"""Tests of name ownership: first-party names stay with their plugins."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from sentinel.core._ownership import name_owner

from .conftest import InstallPlugins, RunSentinel, venv_python


@pytest.mark.parametrize(
    ("key", "claimants", "owner"),
    [
        pytest.param("queue.task:files.process", ("evil", "files"), "files", id="task"),
        pytest.param("queue.task:box.upload", ("aaa", "box"), "box", id="box-task"),
        pytest.param("queue.task:files.process", ("evil", "x"), None, id="absent"),
        pytest.param("queue.task:process", ("evil", "files"), None, id="undotted"),
        pytest.param("file.format:csv", ("evil", "files"), None, id="format"),
        pytest.param("command:files", ("evil", "files"), "files", id="command"),
        pytest.param("command:plugin", ("aaa", "core"), "core", id="core-command"),
        pytest.param("config:files", ("acme", "files"), "files", id="section"),
        pytest.param("config:shared", ("acme", "zeta"), None, id="no-owner"),
        pytest.param("queue.task:evil.x", ("core", "evil"), "core", id="core-first"),
    ],
)
def test_name_owner(key: str, claimants: tuple[str, ...], owner: str | None) -> None:
    assert name_owner(key, claimants) == owner


def test_owner_keeps_task_and_command(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins
) -> None:
    site = plugin_site("evil")
    listed = run_sentinel("plugins", "--json", extra_path=site)
    assert listed.returncode == 0, listed.stderr
    records = {record["id"]: record for record in json.loads(listed.stdout)}
    evil = records["evil"]
    assert evil["status"] == "conflict"
    assert "queue.task:files.process belongs to plugin 'files'" in evil["error"]
    assert "command:files belongs to plugin 'files'" in evil["error"]
    # No plugin owns the csv format, so the lower id still wins it.
    assert "file.format:csv is also declared by plugin 'evil'" in (
        records["files"]["error"] or ""
    )
    help_text = run_sentinel("files", "--help", extra_path=site)
    assert help_text.returncode == 0, help_text.stderr
    assert "Inspect files" in help_text.stdout
    assert "Stand in" not in help_text.stdout


def registry_winners(
    site: Path, cwd: Path, cache_dir: Path, types: list[tuple[str, str]]
) -> list[str]:
    """Return the plugin that wins each ``(kind, name)`` in a fresh process."""
    python = venv_python(site)
    assert python is not None
    code = (
        "import sys\n"
        "from sentinel.core import bootstrap\n"
        "host, _ = bootstrap()\n"
        "for kind, name in zip(sys.argv[1::2], sys.argv[2::2]):\n"
        "    print(host.registry.registration(kind, name).plugin)\n"
    )
    arguments = [part for pair in types for part in pair]
    env = {"SENTINEL_CACHE_DIR": str(cache_dir), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(python), "-c", code, *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=True,
    )
    return result.stdout.split()


def test_owner_keeps_task_in_registry(
    plugin_site: InstallPlugins, tmp_path: Path, cache_dir: Path
) -> None:
    types = [
        ("queue.task", "files.process"),
        ("queue.task", "evil.own"),
        ("file.format", "csv"),
    ]
    winners = registry_winners(plugin_site("evil"), tmp_path, cache_dir, types)
    assert winners == ["files", "evil", "evil"]


def test_owner_prefer_still_chooses(
    plugin_site: InstallPlugins, tmp_path: Path, cache_dir: Path
) -> None:
    (tmp_path / "sentinel.yaml").write_text(
        "default:\n  plugins:\n    prefer:\n      'queue.task:files.process': evil\n",
        encoding="utf-8",
    )
    types = [("queue.task", "files.process")]
    winners = registry_winners(plugin_site("evil"), tmp_path, cache_dir, types)
    assert winners == ["evil"]


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(["--strict", "plugins"], {}, id="option"),
        pytest.param(["queue", "--help"], {"SENTINEL_STRICT": "1"}, id="env"),
    ],
)
def test_strict_rejects_owned_name_conflict(
    run_sentinel: RunSentinel,
    plugin_site: InstallPlugins,
    args: list[str],
    env: dict[str, str],
) -> None:
    result = run_sentinel(*args, extra_path=plugin_site("evil"), env=env)
    assert result.returncode == 1
    assert "plugin 'evil' (sentinel-evil-example) declares" in result.stderr
    assert "which belongs to plugin 'files'" in result.stderr
    assert "strict mode is on" in result.stderr
    assert "Traceback" not in result.stderr
