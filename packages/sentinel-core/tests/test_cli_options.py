"""Tests of the global CLI options on built-in and plugin commands, and --strict."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import InstallPlugins, RunSentinel, venv_python

# A value the queue plugin rejects when the config loads, so a command shows
# which file and environment section it read without reaching any server.
BAD_URL = "redis://:notaport"


def write_config(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["config", "show"], id="builtin"),
        pytest.param(["queue", "status"], id="plugin"),
    ],
)
def test_config_option_reaches_command(
    run_sentinel: RunSentinel, tmp_path: Path, command: list[str]
) -> None:
    write_config(tmp_path, "c.yaml", f"default:\n  queue:\n    url: {BAD_URL!r}\n")
    result = run_sentinel("--config", "c.yaml", *command)
    assert result.returncode == 1
    assert "c.yaml:3, environment section 'default'" in result.stderr
    assert "'queue.url'" in result.stderr


def test_env_option_reaches_plugin_command(
    run_sentinel: RunSentinel, tmp_path: Path
) -> None:
    write_config(
        tmp_path,
        "e.yaml",
        f"default: {{}}\nprod:\n  queue:\n    url: {BAD_URL!r}\n",
    )
    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    default = run_sentinel("--config", "e.yaml", "files", "inspect", "x.csv")
    assert default.returncode == 0, default.stderr
    prod = run_sentinel(
        "--config", "e.yaml", "--env", "prod", "files", "inspect", "x.csv"
    )
    assert prod.returncode == 1
    assert "e.yaml:4, environment section 'prod'" in prod.stderr


@pytest.mark.parametrize(
    "selection",
    [
        pytest.param(["--disable", "files"], id="disable"),
        pytest.param(["--only", "core"], id="only"),
        pytest.param(["--only", "queue,log"], id="only-others"),
    ],
)
def test_unselected_plugin_command_does_not_exist(
    run_sentinel: RunSentinel, tmp_path: Path, selection: list[str]
) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = run_sentinel(*selection, "files", "inspect", "x.csv")
    assert result.returncode == 2
    assert "No such command 'files'" in result.stderr
    assert "plugin 'files', which provides it, is disabled" in result.stderr
    listed = run_sentinel(*selection, "--help")
    assert listed.returncode == 0, listed.stderr
    assert "[files]" not in listed.stdout


def test_verbose_option_logs_for_plugin_command(
    run_sentinel: RunSentinel, tmp_path: Path
) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    quiet = run_sentinel("files", "inspect", "x.csv")
    assert quiet.returncode == 0, quiet.stderr
    assert "DEBUG" not in quiet.stderr
    result = run_sentinel("-v", "files", "inspect", "x.csv")
    assert result.returncode == 0, result.stderr
    assert "DEBUG sentinel.core.cli: config loaded from" in result.stderr


def test_unknown_command_has_no_plugin_hint(run_sentinel: RunSentinel) -> None:
    result = run_sentinel("nosuchcommand")
    assert result.returncode == 2
    assert "No such command 'nosuchcommand'" in result.stderr
    assert "disabled" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(["--strict", "plugins"], {}, id="option-plugins"),
        pytest.param(["plugins"], {"SENTINEL_STRICT": "1"}, id="env-plugins"),
        pytest.param(["--strict", "config", "show"], {}, id="option-config-show"),
        pytest.param(["config", "show"], {"SENTINEL_STRICT": "1"}, id="env-config"),
        pytest.param(["--strict", "version"], {}, id="option-version"),
        pytest.param(["--strict", "queue", "--help"], {}, id="option-plugin-help"),
    ],
)
def test_strict_fails_every_command(
    run_sentinel: RunSentinel,
    plugin_site: InstallPlugins,
    args: list[str],
    env: dict[str, str],
) -> None:
    result = run_sentinel(*args, extra_path=plugin_site("lazy"), env=env)
    assert result.returncode == 1
    assert "plugin 'lazy' from sentinel-lazy-example failed to load" in result.stderr
    assert "strict mode is on" in result.stderr
    assert "Traceback" not in result.stderr


def test_plugins_lists_import_failure(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins
) -> None:
    site = plugin_site("lazy")
    table = run_sentinel("plugins", extra_path=site)
    assert table.returncode == 0, table.stderr
    line = next(line for line in table.stdout.splitlines() if line.startswith("lazy"))
    assert " failed " in line
    assert "the lazy plugin was imported" in line
    listed = run_sentinel("plugins", "--json", extra_path=site)
    records = {record["id"]: record for record in json.loads(listed.stdout)}
    assert records["lazy"]["status"] == "failed"
    assert records["files"]["status"] == "loaded"


def test_section_owner_beats_third_party(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins, tmp_path: Path
) -> None:
    site = plugin_site("takeover")
    write_config(
        tmp_path, "sentinel.yaml", "default:\n  files:\n    quiet_seconds: 2\n"
    )
    result = run_sentinel("config", "show", extra_path=site)
    assert result.returncode == 0, result.stderr
    assert "quiet_seconds: 2" in result.stdout
    assert (
        "plugin acme conflict: config:files belongs to plugin 'files'" in result.stderr
    )
    assert "plugin files conflict" not in result.stderr
    # The listing imports acme, which then fails and claims nothing.
    table = run_sentinel("plugins", extra_path=site)
    line = next(line for line in table.stdout.splitlines() if line.startswith("acme"))
    assert " failed " in line
    assert "conflict:" not in table.stdout


def test_failed_plugin_contributes_no_section(
    plugin_site: InstallPlugins, tmp_path: Path, cache_dir: Path
) -> None:
    python = venv_python(plugin_site("takeover"))
    assert python is not None
    code = (
        "import sys\n"
        "from sentinel.core import bootstrap\n"
        "host, config = bootstrap(import_plugins=sys.argv[1] == 'import')\n"
        "print(host.info('acme').status, 'acme' in config.sections)\n"
    )
    env = {"SENTINEL_CACHE_DIR": str(cache_dir), "PATH": "/usr/bin:/bin"}

    def load(mode: str) -> str:
        result = subprocess.run(
            [str(python), "-c", code, mode],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            check=True,
        )
        return result.stdout.strip()

    # Declarations alone count until the import fails; run imports first.
    assert load("declared") == "conflict True"
    assert load("import") == "failed False"


def test_help_shows_config_error(run_sentinel: RunSentinel, tmp_path: Path) -> None:
    write_config(tmp_path, "c.yaml", f"default:\n  queue:\n    url: {BAD_URL!r}\n")
    result = run_sentinel("--config", "c.yaml", "--help")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Usage:" in result.stdout
    assert "Plugin commands are not listed" in result.stdout
    assert "'queue.url'" in result.stdout


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        pytest.param(["queue", "--help"], "Usage: sentinel queue", id="queue"),
        pytest.param(["web", "serve", "-h"], "Usage: sentinel web serve", id="web"),
    ],
)
def test_subcommand_help_with_invalid_config(
    run_sentinel: RunSentinel, tmp_path: Path, args: list[str], usage: str
) -> None:
    write_config(tmp_path, "sentinel.yaml", "default:\n  queue:\n    workers: 'abc'\n")
    result = run_sentinel(*args)
    assert result.returncode == 0, result.stderr
    assert usage in result.stdout
    assert "the config is invalid" in result.stderr
    assert "'queue.workers'" in result.stderr
    assert "Traceback" not in result.stderr


def test_subcommand_still_fails_with_invalid_config(
    run_sentinel: RunSentinel, tmp_path: Path
) -> None:
    write_config(tmp_path, "sentinel.yaml", "default:\n  queue:\n    workers: 'abc'\n")
    result = run_sentinel("queue", "status", "--", "--help")
    assert result.returncode == 1
    assert "'queue.workers'" in result.stderr
    assert "Usage:" not in result.stdout


def test_subcommand_help_with_unparsable_config(
    run_sentinel: RunSentinel, tmp_path: Path
) -> None:
    write_config(tmp_path, "bad.yaml", "default:\n  queue:\n    workers: [1\n  x: 1\n")
    result = run_sentinel("--config", "bad.yaml", "queue", "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: sentinel queue" in result.stdout
    assert "not valid YAML" in result.stderr


def test_help_keeps_yaml_error_lines(run_sentinel: RunSentinel, tmp_path: Path) -> None:
    write_config(tmp_path, "bad.yaml", "default:\n  queue:\n    workers: [1\n  x: 1\n")
    result = run_sentinel("--config", "bad.yaml", "--help")
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert 'in "bad.yaml", line 3, column 14' in lines
    assert 'in "bad.yaml", line 4, column 4' in lines
