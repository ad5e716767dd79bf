"""Tests of the saved plugin listing that ``sentinel --help`` reads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from sentinel.core.cli import SentinelContext, _terminal_columns, cli
from sentinel.testing import install_offline

from .conftest import PLUGINS, InstallPlugins, RunSentinel, venv_python

# Modules the full plugin host needs; a read of the saved listing needs none.
HOST_MODULES = [
    "dataclasses",
    "importlib.metadata",
    "logging",
    "pathlib",
    "pluggy",
    "sentinel.core._config",
    "sentinel.core._plugins",
    "tomllib",
    "yaml",
]

# 'sentinel plugins' imports every plugin to show import failures, so only
# --help reads the saved listing.
LISTING_COMMANDS = [
    pytest.param(["--help"], id="help"),
]


def saved_listings(cache_dir: Path) -> list[object]:
    return [
        json.loads(path.read_text(encoding="utf-8")).get("listing")
        for path in sorted(cache_dir.glob("plugins-*.json"))
    ]


def modules_imported(
    python: Path, cwd: Path, cache_dir: Path, args: list[str]
) -> set[str]:
    """Run the CLI in-process and return the modules it added to sys.modules."""
    code = (
        "import contextlib, io, json, sys\n"
        "before = set(sys.modules)\n"
        "from sentinel.core.cli import main\n"
        f"sys.argv = ['sentinel', *{args!r}]\n"
        "with contextlib.suppress(SystemExit), "
        "contextlib.redirect_stdout(io.StringIO()):\n"
        "    main()\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL")}
    environ["SENTINEL_CACHE_DIR"] = str(cache_dir)
    result = subprocess.run(
        [str(python), "-c", code],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("args", LISTING_COMMANDS)
def test_listing_read_imports_no_host_module(
    plugin_site: InstallPlugins, tmp_path: Path, cache_dir: Path, args: list[str]
) -> None:
    python = venv_python(plugin_site("lazy"))
    assert python is not None
    first = modules_imported(python, tmp_path, cache_dir, args)
    assert "sentinel.core._plugins" in first
    assert any(saved_listings(cache_dir))
    second = modules_imported(python, tmp_path, cache_dir, args)
    assert sorted(second & set(HOST_MODULES)) == []
    assert not any(name.startswith("sentinel_lazy_example") for name in second)
    # The help width is measured without shutil, which would load bz2 and lzma.
    assert "shutil" not in second


@pytest.mark.parametrize("columns", [None, "", "0", "-3", "wide", "40", "132"])
def test_help_width_matches_shutil(
    monkeypatch: pytest.MonkeyPatch, columns: str | None
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _terminal_columns() == shutil.get_terminal_size().columns


def test_help_width_left_to_click_when_forced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    assert SentinelContext(cli).terminal_width == 58
    monkeypatch.setenv("COLUMNS", "300")
    assert SentinelContext(cli).terminal_width == 78
    # CliRunner forces its width this way; click applies it only to an unset width.
    monkeypatch.setattr(click.formatting, "FORCED_WIDTH", 80)
    assert SentinelContext(cli).terminal_width is None


@pytest.mark.parametrize("args", LISTING_COMMANDS)
def test_listing_prints_what_loading_prints(
    run_sentinel: RunSentinel,
    plugin_site: InstallPlugins,
    cache_dir: Path,
    args: list[str],
) -> None:
    site = plugin_site("newer-api", "lazy")
    scanned = run_sentinel(*args, extra_path=site)
    assert any(saved_listings(cache_dir))
    read = run_sentinel(*args, extra_path=site)
    loaded = run_sentinel(*args, extra_path=site, env={"SENTINEL_NO_CACHE": "1"})
    assert scanned.returncode == read.returncode == loaded.returncode == 0
    assert read.stdout == loaded.stdout == scanned.stdout
    # The incompatible plugin's warning is printed on every path, once.
    assert read.stderr == loaded.stderr == scanned.stderr
    assert read.stderr.count("needs core API >=2.0,<3") == 1


@pytest.mark.parametrize(
    ("args", "env", "config"),
    [
        pytest.param(["--disable", "lazy"], {}, None, id="option"),
        pytest.param([], {"SENTINEL_DISABLE_PLUGINS": "lazy"}, None, id="environment"),
        pytest.param(
            [], {}, "default:\n  plugins:\n    disable: [lazy]\n", id="config"
        ),
    ],
)
def test_listing_ignored_when_plugins_are_selected(
    run_sentinel: RunSentinel,
    plugin_site: InstallPlugins,
    tmp_path: Path,
    cache_dir: Path,
    args: list[str],
    env: dict[str, str],
    config: str | None,
) -> None:
    site = plugin_site("lazy")
    run_sentinel("plugins", extra_path=site)
    assert any(saved_listings(cache_dir))
    if config is not None:
        (tmp_path / "sentinel.yaml").write_text(config, encoding="utf-8")
    result = run_sentinel(*args, "plugins", "--json", extra_path=site, env=env)
    assert result.returncode == 0, result.stderr
    records = {record["id"]: record for record in json.loads(result.stdout)}
    assert records["lazy"]["status"] == "disabled"
    if not args:
        # --help is eager: it prints before the group's options take effect.
        help_text = run_sentinel("--help", extra_path=site, env=env).stdout
        assert "[lazy]" not in help_text


def test_listing_not_saved_when_a_plugin_must_be_imported(
    run_sentinel: RunSentinel, installed_plugins: Path, cache_dir: Path
) -> None:
    for _ in range(2):
        result = run_sentinel("--help", extra_path=installed_plugins)
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("this plugin is broken on purpose") == 1
    assert saved_listings(cache_dir) == [None]


def test_listing_follows_installed_distributions(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    assert "[lazy]" not in run_sentinel("--help", extra_path=site).stdout
    assert "[lazy]" not in run_sentinel("--help", extra_path=site).stdout
    install_offline(site, PLUGINS / "lazy")
    assert "[lazy]" in run_sentinel("--help", extra_path=site).stdout
