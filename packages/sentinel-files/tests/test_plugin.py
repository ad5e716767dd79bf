"""Tests of the plugin declarations, the public API and the files service."""

from __future__ import annotations

from pathlib import Path

import pytest

import sentinel.files
from sentinel.core import (
    FILE_FORMAT,
    QUEUE_TASK,
    Agent,
    ConfigError,
    PluginHost,
    bootstrap,
)
from sentinel.files import plugin
from sentinel.files._routes import load_routes
from sentinel.files._service import count_files


def test_plugin_registers_formats_and_task() -> None:
    host = PluginHost()
    host.register_module("files", plugin)
    names = host.registry.names(FILE_FORMAT)
    assert names == ["csv", "json", "tsv", "xlsm", "xlsx", "xml", "yaml"]
    assert host.registry.get(FILE_FORMAT, "xlsm") is sentinel.files.XlsmFile
    assert callable(host.registry.get(QUEUE_TASK, "files.process"))


def test_plugin_config_defaults_match_contract() -> None:
    defaults = plugin.FILES_SECTION.defaults()
    assert defaults["routes"][0]["task"] == "box.upload"
    assert defaults["routes"][0]["options"] == {"folder": "/Sentinel/Inbox"}
    assert defaults["quiet_seconds"] == 1.0
    assert defaults["polling"] is False


def test_folder_counts_skip_reason_files(tmp_path: Path) -> None:
    (tmp_path / "failed" / "sub").mkdir(parents=True)
    (tmp_path / "failed" / "sub" / "x.csv").write_text("a")
    (tmp_path / "failed" / "sub" / "x.csv.reason.txt").write_text("why")
    assert count_files(tmp_path / "failed") == 1


def test_build_routes_excludes_output_folders_inside_inbox(tmp_path: Path) -> None:
    settings = {"routes": [{"name": "all", "folder": ".", "processed": "done"}]}
    (route,) = load_routes(settings, tmp_path)
    root = tmp_path.resolve()
    assert route.exclude == (root / "done", root / "failed")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("quiet_seconds", -1),
        ("settle_seconds", -0.5),
        ("poll_interval", 0),
        ("quiet_seconds", "soon"),
    ],
    ids=["quiet-negative", "settle-negative", "poll-zero", "quiet-text"],
)
def test_startup_rejects_bad_timing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, value: object
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    host, config = bootstrap()
    # Loading rejects these values first; this checks the plugin's own check,
    # for a host that builds its config without the declared bounds.
    config.values["files"][key] = value
    agent = Agent(config, host, tmp_path)
    with pytest.raises(ConfigError, match=rf"files\.{key} is {value!r}; expected"):
        plugin.sentinel_startup(agent)
    assert not agent.has_service("files")
