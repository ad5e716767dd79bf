"""Tests of plugin discovery against real installed distributions."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from sentinel.core import (
    CommandSpec,
    ConfigSection,
    Field,
    PluginError,
    PluginHost,
    TypeSpec,
    hookimpl,
)

from .conftest import RunSentinel

BUNDLED = {"core", "files", "queue", "box", "web", "log"}


def plugins_json(run_sentinel: RunSentinel, *args: str, **kwargs: object) -> dict:
    result = run_sentinel(*args, "plugins", "--json", **kwargs)
    assert result.returncode == 0, result.stderr
    return {record["id"]: record for record in json.loads(result.stdout)}


def test_plugins_lists_the_six_bundled_as_loaded(run_sentinel: RunSentinel) -> None:
    records = plugins_json(run_sentinel)
    assert set(records) >= BUNDLED
    for plugin_id in BUNDLED:
        record = records[plugin_id]
        assert record["status"] == "loaded", record
        assert record["distribution"] == f"sentinel-{plugin_id}"
        assert record["version"]
        assert record["error"] is None
        assert record["hooks"] or record["provides"], record


def test_plugins_json_has_required_keys(run_sentinel: RunSentinel) -> None:
    records = plugins_json(run_sentinel)
    for record in records.values():
        assert {"id", "distribution", "version", "status", "hooks", "error"} <= set(
            record
        )


def test_broken_plugin_listed_as_failed(
    run_sentinel: RunSentinel, installed_plugins: Path
) -> None:
    records = plugins_json(run_sentinel, extra_path=installed_plugins)
    broken = records["broken"]
    assert broken["status"] == "failed"
    assert broken["distribution"] == "sentinel-broken-example"
    assert "this plugin is broken on purpose" in broken["error"]
    assert all(records[plugin_id]["status"] == "loaded" for plugin_id in BUNDLED)


def test_misspelled_hook_listed_as_failed(
    run_sentinel: RunSentinel, installed_plugins: Path
) -> None:
    records = plugins_json(run_sentinel, extra_path=installed_plugins)
    misspelled = records["misspelled"]
    assert misspelled["status"] == "failed"
    assert "sentinel_startpu" in misspelled["error"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--help"], id="help"),
        pytest.param(["plugins"], id="plugins-table"),
        pytest.param(["config", "show"], id="config-show"),
        pytest.param(["version"], id="version"),
        pytest.param(["files", "--help"], id="plugin-command"),
    ],
)
def test_commands_work_beside_broken_plugin(
    run_sentinel: RunSentinel, installed_plugins: Path, args: list[str]
) -> None:
    result = run_sentinel(*args, extra_path=installed_plugins)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_plugins_table_shows_failure(
    run_sentinel: RunSentinel, installed_plugins: Path
) -> None:
    result = run_sentinel("plugins", extra_path=installed_plugins)
    line = next(
        line for line in result.stdout.splitlines() if line.startswith("broken")
    )
    assert "failed" in line
    assert "sentinel-broken-example" in line


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(["--strict", "plugins"], {}, id="flag"),
        pytest.param(["plugins"], {"SENTINEL_STRICT": "1"}, id="environment"),
    ],
)
def test_strict_mode_exits_nonzero(
    run_sentinel: RunSentinel,
    installed_plugins: Path,
    args: list[str],
    env: dict[str, str],
) -> None:
    result = run_sentinel(*args, extra_path=installed_plugins, env=env)
    assert result.returncode != 0
    assert "sentinel-broken-example" in result.stderr
    assert "Traceback" not in result.stderr


def test_strict_mode_passes_without_broken(run_sentinel: RunSentinel) -> None:
    result = run_sentinel("--strict", "plugins")
    assert result.returncode == 0, result.stderr


def test_disable_by_listed_id(
    run_sentinel: RunSentinel, installed_plugins: Path
) -> None:
    env = {"SENTINEL_DISABLE_PLUGINS": "broken,misspelled"}
    records = plugins_json(run_sentinel, extra_path=installed_plugins, env=env)
    assert records["broken"]["status"] == "disabled"
    assert records["misspelled"]["status"] == "disabled"
    strict = run_sentinel("--strict", "plugins", extra_path=installed_plugins, env=env)
    assert strict.returncode == 0, strict.stderr


class _TypesPlugin:
    def __init__(self, name: str, target: str) -> None:
        self.name, self.target = name, target

    @hookimpl
    def sentinel_types(self) -> list[TypeSpec]:
        return [TypeSpec("file.format", self.name, self.target)]


def test_registry_imports_type_on_use() -> None:
    host = PluginHost()
    host.register_module("a", _TypesPlugin("path", "pathlib:Path"))
    assert host.registry.names("file.format") == ["path"]
    assert host.registry.get("file.format", "path") is Path


def test_registry_reports_conflict_and_prefer() -> None:
    host = PluginHost(prefer={"file.format:thing": "b"})
    host.register_module("a", _TypesPlugin("thing", "pathlib:Path"))
    host.register_module("b", _TypesPlugin("thing", "pathlib:PurePath"))
    [conflict] = host.registry.conflicts()
    assert conflict.plugins == ("a", "b")
    assert conflict.chosen == "b"
    assert host.registry.get("file.format", "thing").__name__ == "PurePath"


def test_hook_that_raises_marks_plugin_failed() -> None:
    class Raising:
        @hookimpl
        def sentinel_commands(self) -> list[CommandSpec]:
            raise ValueError("bad declaration")

    host = PluginHost()
    host.register_module("raising", Raising())
    assert host.commands() == {}
    info = host.info("raising")
    assert info is not None
    assert info.status == "failed"
    assert "bad declaration" in (info.error or "")


def test_strict_host_raises_on_failure() -> None:
    host = PluginHost(strict=True)
    bad = SimpleNamespace(sentinel_nonexistent=hookimpl(lambda: None))
    with pytest.raises(PluginError, match="sentinel_nonexistent"):
        host.register_module("bad", bad)


class _SectionPlugin:
    def __init__(self, name: str, default: object) -> None:
        self.section = ConfigSection(name, {"value": Field(type(default), default)})

    @hookimpl
    def sentinel_config_sections(self) -> list[ConfigSection]:
        return [self.section]


@pytest.mark.parametrize(
    ("claimants", "chosen", "by_owner"),
    [
        pytest.param(("acme", "files"), "files", True, id="named-like-plugin"),
        pytest.param(("acme", "core"), "core", True, id="core"),
        pytest.param(("acme", "zeta"), "acme", False, id="no-owner-id-order"),
    ],
)
def test_config_section_goes_to_owner(
    claimants: tuple[str, ...], chosen: str, by_owner: bool
) -> None:
    name = "files" if "files" in claimants else "shared"
    host = PluginHost()
    for plugin_id in claimants:
        host.register_module(plugin_id, _SectionPlugin(name, plugin_id))
    [conflict] = host.conflicts
    assert conflict.chosen == chosen
    assert conflict.by_owner is by_owner
    [section] = host.config_sections()
    assert section.fields["value"].default == chosen
    loser = next(plugin_id for plugin_id in claimants if plugin_id != chosen)
    info = host.info(loser)
    assert info is not None
    assert info.status == "conflict"


def test_config_section_prefer_beats_owner() -> None:
    host = PluginHost(prefer={"config:files": "acme"})
    host.register_module("acme", _SectionPlugin("files", "acme"))
    host.register_module("files", _SectionPlugin("files", "files"))
    [conflict] = host.conflicts
    assert conflict.chosen == "acme"
    assert conflict.by_config is True
