"""Tests of the plugin host against example distributions installed with pip."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from sentinel.core import PluginHost, hookimpl
from sentinel.testing import install_offline

from .conftest import PLUGINS, SENTINEL, InstallPlugins, RunSentinel

BUNDLED = ["box", "core", "files", "log", "queue", "web"]


def plugins_json(
    run_sentinel: RunSentinel, *args: str, **kwargs: object
) -> dict[str, dict]:
    result = run_sentinel(*args, "plugins", "--json", **kwargs)
    assert result.returncode == 0, result.stderr
    return {record["id"]: record for record in json.loads(result.stdout)}


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--help"], id="help"),
        pytest.param(["config", "show"], id="config-show"),
        pytest.param(["files", "--help"], id="plugin-command"),
    ],
)
def test_import_that_exits_does_not_stop_commands(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins, args: list[str]
) -> None:
    result = run_sentinel(*args, extra_path=plugin_site("exits"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_import_that_exits_is_listed_as_failed(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins
) -> None:
    records = plugins_json(run_sentinel, extra_path=plugin_site("exits"))
    exits = records["exits"]
    assert exits["status"] == "failed"
    assert exits["distribution"] == "sentinel-exits-example"
    assert "sys.exit(3)" in exits["error"]
    assert all(records[plugin_id]["status"] == "loaded" for plugin_id in BUNDLED)


def test_import_that_exits_fails_strict_mode(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins
) -> None:
    result = run_sentinel("--strict", "plugins", extra_path=plugin_site("exits"))
    assert result.returncode == 1
    assert "sentinel-exits-example" in result.stderr
    assert "Traceback" not in result.stderr


def test_removed_core_name_skips_plugin_naming_distribution(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins
) -> None:
    site = plugin_site("oldapi")
    result = run_sentinel("plugins", extra_path=site)
    assert result.returncode == 0, result.stderr
    assert "sentinel-oldapi-example" in result.stderr
    assert "LegacyTaskRunner" in result.stderr
    records = plugins_json(run_sentinel, extra_path=site)
    assert records["oldapi"]["status"] == "failed"
    assert "built for another sentinel-core" in records["oldapi"]["error"]


def test_newer_api_plugin_is_incompatible_and_not_imported(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins
) -> None:
    site = plugin_site("newer-api")
    records = plugins_json(run_sentinel, "--strict", extra_path=[site], env={})
    newer = records["newer"]
    assert newer["status"] == "incompatible"
    assert newer["api"] == ">=2.0,<3"
    assert newer["imported"] is False
    assert ">=2.0,<3" in newer["error"]
    table = run_sentinel("plugins", extra_path=site)
    line = next(line for line in table.stdout.splitlines() if line.startswith("newer"))
    assert "incompatible" in line
    assert "needs core API >=2.0,<3" in line
    # Even a command that imports every plugin leaves it alone.
    check = run_sentinel("plugins", "check", "newer", extra_path=site)
    assert "was imported" not in check.stdout + check.stderr
    assert check.returncode == 1
    assert "incompatible" in check.stdout
    assert "newer" not in run_sentinel("--help", extra_path=site).stdout


def test_declared_plugin_listed_without_import(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins, tmp_path: Path
) -> None:
    site = plugin_site("lazy")
    # The listing imports the plugin to check it, and its import raises.
    records = plugins_json(run_sentinel, extra_path=site)
    lazy = records["lazy"]
    assert lazy["status"] == "failed"
    assert lazy["declared"] is True
    assert lazy["provides"] == {"command": ["lazy"], "config": ["lazy"]}
    assert "the lazy plugin was imported" in lazy["error"]
    help_text = run_sentinel("--help", extra_path=site)
    assert "A command declared as data. [lazy]" in help_text.stdout
    assert "was imported" not in help_text.stderr
    (tmp_path / "sentinel.yaml").write_text(
        "default:\n  lazy:\n    retries: 11\n", encoding="utf-8"
    )
    invalid = run_sentinel("config", "show", extra_path=site)
    assert invalid.returncode == 1
    assert "'lazy.retries'" in invalid.stderr
    assert "from 0 to 10" in invalid.stderr
    assert "was imported" not in invalid.stderr


def test_declared_plugin_import_failure_found_by_check(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins
) -> None:
    result = run_sentinel("plugins", "check", "lazy", extra_path=plugin_site("lazy"))
    assert result.returncode == 1
    assert "error: lazy: failed: import failed" in result.stdout
    assert "the lazy plugin was imported" in result.stdout


def test_check_passes_on_bundled_plugins(run_sentinel: RunSentinel) -> None:
    result = run_sentinel("plugins", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout


def test_check_reports_misspelled_hook(
    run_sentinel: RunSentinel, installed_plugins: Path
) -> None:
    result = run_sentinel("plugins", "check", "--json", extra_path=installed_plugins)
    assert result.returncode == 1
    problems = json.loads(result.stdout)
    messages = {p["plugin"]: p["message"] for p in problems if p["level"] == "error"}
    assert "sentinel_startpu" in messages["misspelled"]
    assert "broken on purpose" in messages["broken"]


def test_same_command_conflict_reported_and_config_chooses(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins, tmp_path: Path
) -> None:
    site = plugin_site("hello-a", "hello-b")
    table = run_sentinel("plugins", extra_path=site)
    assert "conflict: command:hello is declared by hello-a, hello-b" in table.stdout
    records = plugins_json(run_sentinel, extra_path=site)
    assert records["hello-a"]["status"] == "loaded"
    assert records["hello-b"]["status"] == "conflict"
    assert "plugins.prefer" in records["hello-b"]["error"]
    assert run_sentinel("hello", extra_path=site).stdout == "hello from a\n"

    (tmp_path / "sentinel.yaml").write_text(
        yaml.safe_dump(
            {
                "default": {
                    "plugins": {
                        "prefer": {
                            "command:hello": "hello-b",
                            "queue.task:hello.greet": "hello-b",
                        }
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    chosen = run_sentinel("hello", extra_path=site)
    assert chosen.stdout == "hello from b\n", chosen.stderr
    records = plugins_json(run_sentinel, extra_path=site)
    assert records["hello-b"]["status"] == "loaded"
    table = run_sentinel("plugins", extra_path=site)
    assert "hello-b wins (plugins.prefer)" in table.stdout


@pytest.mark.parametrize(
    "source", ["cli-disable", "env-disable", "config-disable", "cli-only", "env-only"]
)
def test_listed_id_selects_plugin_verbatim(
    run_sentinel: RunSentinel,
    plugin_site: InstallPlugins,
    tmp_path: Path,
    source: str,
) -> None:
    site = plugin_site("hello-a", "exits")
    listed = plugins_json(run_sentinel, extra_path=site)
    assert {"hello-a", "exits"} <= set(listed)
    # Every listed id through the CLI; one through each other way.
    ids = ["hello-a", "exits", "files"] if source == "cli-disable" else ["hello-a"]
    for plugin_id in ids:
        args: list[str] = []
        env: dict[str, str] = {}
        keep = ",".join(sorted(set(listed) - {plugin_id}))
        if source == "cli-disable":
            args = ["--disable", plugin_id]
        elif source == "env-disable":
            env = {"SENTINEL_DISABLE_PLUGINS": plugin_id}
        elif source == "config-disable":
            config = {"default": {"plugins": {"disable": [plugin_id]}}}
            (tmp_path / "sentinel.yaml").write_text(yaml.safe_dump(config))
        elif source == "cli-only":
            args = ["--only", keep]
        else:
            env = {"SENTINEL_PLUGINS": keep}
        records = plugins_json(run_sentinel, *args, extra_path=site, env=env)
        assert records[plugin_id]["status"] == "disabled", (source, plugin_id)
        others = set(listed) - {plugin_id, "exits"}
        assert all(records[other]["status"] == "loaded" for other in others)


def test_unknown_plugin_id_warns(run_sentinel: RunSentinel) -> None:
    result = run_sentinel("plugins", env={"SENTINEL_DISABLE_PLUGINS": "bogus"})
    assert result.returncode == 0, result.stderr
    assert (
        "SENTINEL_DISABLE_PLUGINS names plugin 'bogus', but no plugin has that id"
        in result.stderr
    )


def test_hook_order_does_not_depend_on_install_order(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins
) -> None:
    first = run_sentinel(
        "plugins", "order", "startup", extra_path=plugin_site("hello-a", "hello-b")
    )
    second = run_sentinel(
        "plugins", "order", "startup", extra_path=plugin_site("hello-b", "hello-a")
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    lines = first.stdout.splitlines()
    assert any("hello-a" in line for line in lines)
    assert any("hello-b" in line for line in lines)
    shutdown = run_sentinel("plugins", "order", "sentinel_shutdown")
    assert "1. files (tryfirst)" in shutdown.stdout
    assert shutdown.stdout.splitlines()[-1].endswith("box (trylast)")


def test_hook_order_rejects_unknown_hook(run_sentinel: RunSentinel) -> None:
    result = run_sentinel("plugins", "order", "sentinel_startpu")
    assert result.returncode == 1
    assert "no hook named 'sentinel_startpu'" in result.stderr
    assert "sentinel_startup" in result.stderr


def test_timings_show_import_time(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins
) -> None:
    result = run_sentinel("plugins", "--timings", extra_path=plugin_site("hello-a"))
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert "IMPORT" in header
    hello = next(row for row in rows if row.startswith("hello-a"))
    assert " ms " in hello
    assert rows[-1].startswith("discovery: ")


def test_trace_prints_every_hook_call(capsys: pytest.CaptureFixture[str]) -> None:
    class Plugin:
        @hookimpl
        def sentinel_startup(self, agent: object) -> None:
            pass

    host = PluginHost(trace=True)
    host.register_module("traced", Plugin())
    host.pm.hook.sentinel_startup(agent=None)
    err = capsys.readouterr().err
    assert "trace: sentinel_startup plugin=traced" in err
    assert " ms ok" in err


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(["--trace-hooks"], {}, id="flag"),
        pytest.param([], {"SENTINEL_TRACE_HOOKS": "1"}, id="environment"),
    ],
)
def test_trace_switch_prints_run_hooks(
    run_sentinel: RunSentinel,
    plugin_site: InstallPlugins,
    args: list[str],
    env: dict[str, str],
) -> None:
    result = run_sentinel(
        *args,
        "--only",
        "starts-badly",
        "run",
        extra_path=plugin_site("starts-badly"),
        env=env,
    )
    assert result.returncode == 1
    assert "trace: sentinel_startup plugin=starts-badly" in result.stderr
    assert "raised SentinelError" in result.stderr


def test_config_schema_merges_sections(run_sentinel: RunSentinel) -> None:
    result = run_sentinel("config", "schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    properties = schema["properties"]
    assert {"files", "queue", "box", "web", "log", "logging", "plugins"} <= set(
        properties
    )
    assert properties["queue"]["properties"]["workers"]["type"] == "integer"
    assert properties["queue"]["properties"]["url"]["type"] == ["string", "null"]
    assert schema["additionalProperties"] is False


# -- the discovery cache ---------------------------------------------------


def cache_files(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("plugins-*.json"))


def discovery_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def test_cache_written_then_used(run_sentinel: RunSentinel, cache_dir: Path) -> None:
    first = run_sentinel("plugins", "--timings")
    assert "from scan" in discovery_line(first)
    assert len(cache_files(cache_dir)) == 1
    second = run_sentinel("plugins", "--timings")
    if "from scan" in discovery_line(second):
        # Another process installed into the shared environment in between,
        # which rightly invalidates the cache; the next run must hit it.
        second = run_sentinel("plugins", "--timings")
    assert "from cache" in discovery_line(second)
    # The header's column widths depend on the measured times, so compare
    # the column names only.
    assert first.stdout.splitlines()[0].split() == second.stdout.splitlines()[0].split()


def test_corrupt_cache_is_rebuilt(run_sentinel: RunSentinel, cache_dir: Path) -> None:
    run_sentinel("plugins")
    [cache] = cache_files(cache_dir)
    cache.write_text("{not json", encoding="utf-8")
    result = run_sentinel("plugins", "--timings")
    assert "from scan" in discovery_line(result)
    assert json.loads(cache.read_text(encoding="utf-8"))["candidates"]


def test_cache_of_another_layout_is_rebuilt(
    run_sentinel: RunSentinel, cache_dir: Path
) -> None:
    run_sentinel("plugins")
    [cache] = cache_files(cache_dir)
    data = json.loads(cache.read_text(encoding="utf-8"))
    data["candidates"] = [{"unexpected": True}]
    cache.write_text(json.dumps(data), encoding="utf-8")
    records = plugins_json(run_sentinel)
    assert set(BUNDLED) <= set(records)


def test_cache_notices_added_upgraded_and_removed_distribution(
    run_sentinel: RunSentinel, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    assert "hello-a" not in plugins_json(run_sentinel, extra_path=site)
    install_offline(site, PLUGINS / "hello-a")
    assert plugins_json(run_sentinel, extra_path=site)["hello-a"]["version"] == "1.0.0"

    upgraded = tmp_path / "hello-a-2"
    shutil.copytree(PLUGINS / "hello-a", upgraded)
    pyproject = upgraded / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('version = "1.0.0"', 'version = "2.0.0"'))
    shutil.rmtree(site)
    site.mkdir()
    install_offline(site, upgraded)
    assert plugins_json(run_sentinel, extra_path=site)["hello-a"]["version"] == "2.0.0"

    for dist_info in site.glob("sentinel_hello_a-*.dist-info"):
        shutil.rmtree(dist_info)
    assert "hello-a" not in plugins_json(run_sentinel, extra_path=site)


def test_cache_notices_edited_declaration_file(
    run_sentinel: RunSentinel, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    install_offline(site, PLUGINS / "hello-a")
    declared = plugins_json(run_sentinel, extra_path=site)["hello-a"]
    assert declared["provides"]["command"] == ["hello"]
    declaration = site / "sentinel_hello_a" / "plugin.toml"
    text = declaration.read_text(encoding="utf-8")
    declaration.write_text(text.replace('name = "hello"', 'name = "hi"'))
    edited = plugins_json(run_sentinel, extra_path=site)["hello-a"]
    assert edited["provides"]["command"] == ["hi"]


def test_distribution_twice_on_path_loads_once(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins, tmp_path: Path
) -> None:
    first = plugin_site("hello-a")
    second = tmp_path / "copy"
    shutil.copytree(first, second)
    result = run_sentinel("plugins", "--json", extra_path=[first, second])
    assert result.returncode == 0, result.stderr
    ids = [record["id"] for record in json.loads(result.stdout)]
    assert ids.count("hello-a") == 1
    assert "conflict" not in result.stdout


# -- sentinel run ----------------------------------------------------------


def test_run_startup_sentinel_error_logs_message_only(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins
) -> None:
    result = run_sentinel(
        "--only", "starts-badly", "run", extra_path=plugin_site("starts-badly")
    )
    assert result.returncode == 1
    assert "port 8765 is in use; set web.port to a free port" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_warns_when_nothing_does_work(tmp_path: Path, cache_dir: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL")}
    environ["SENTINEL_CACHE_DIR"] = str(cache_dir)
    lines = []
    with subprocess.Popen(
        [*SENTINEL, "--only", "core", "run"],
        cwd=tmp_path,
        env=environ,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "sentinel is running" in line:
                break
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    text = "".join(lines)
    assert "pip install 'sentinel-core[files,web]'" in text


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["files", "inspect", "data.csv"], id="files-inspect"),
        pytest.param(["--help"], id="help"),
    ],
)
def test_load_warning_printed_once(
    run_sentinel: RunSentinel,
    installed_plugins: Path,
    tmp_path: Path,
    args: list[str],
) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = run_sentinel(*args, extra_path=installed_plugins)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("this plugin is broken on purpose") == 1, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--help"], id="help"),
        pytest.param(["config", "show"], id="config-show"),
    ],
)
def test_listing_commands_import_no_plugin_code(
    tmp_path: Path, cache_dir: Path, args: list[str]
) -> None:
    code = (
        "import contextlib, io, sys\n"
        "from sentinel.core.cli import main\n"
        f"sys.argv = ['sentinel', *{args!r}]\n"
        "with contextlib.suppress(SystemExit), "
        "contextlib.redirect_stdout(io.StringIO()):\n"
        "    main()\n"
        "print(sorted(m for m in sys.modules if m.startswith('sentinel.') and "
        "not m.startswith('sentinel.core') or m == 'sentinel.core.plugin'))\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL")}
    environ["SENTINEL_CACHE_DIR"] = str(cache_dir)
    result = subprocess.run(
        [SENTINEL[0], "-c", code],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_same_id_from_two_distributions_is_a_conflict(
    run_sentinel: RunSentinel, plugin_site: InstallPlugins, tmp_path: Path
) -> None:
    impostor = tmp_path / "impostor"
    shutil.copytree(PLUGINS / "hello-b", impostor)
    pyproject = impostor / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("hello-b = ", "hello-a = ").replace(
            'name = "sentinel-hello-b"', 'name = "sentinel-hello-impostor"'
        ),
        encoding="utf-8",
    )
    site = tmp_path / "site"
    install_offline(site, impostor)
    result = run_sentinel(
        "plugins", "--json", extra_path=[plugin_site("hello-a"), site]
    )
    assert result.returncode == 0, result.stderr
    records = [r for r in json.loads(result.stdout) if r["id"] == "hello-a"]
    by_distribution = {r["distribution"]: r for r in records}
    assert by_distribution["sentinel-hello-a"]["status"] == "loaded"
    shadowed = by_distribution["sentinel-hello-impostor"]
    assert shadowed["status"] == "conflict"
    assert "sentinel-hello-a" in shadowed["error"]
