"""A third-party file format installed as a distribution and used by its entry point."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sentinel.core import FILE_FORMAT, PermanentTaskError, PluginHost
from sentinel.files import UnsupportedFormatError, load_file
from sentinel.files._formats import classes_from_registry
from sentinel.files._pipeline import process_file
from sentinel.testing import install_offline

PLUGIN = Path(__file__).parent / "plugins" / "jsonl"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PluginHost]:
    target = install_offline(tmp_path_factory.mktemp("site"), PLUGIN)
    sys.path.insert(0, str(target))
    try:
        plugins = PluginHost()
        plugins.load_entry_points()
        yield plugins
    finally:
        sys.path.remove(str(target))
        for name in [name for name in sys.modules if name.startswith("sentinel_jsonl")]:
            del sys.modules[name]


class Context:
    """A task context that carries the plugin registry, as workers can."""

    def __init__(self, registry: Any) -> None:
        self.job_id = "job-1"
        self.task = "files.process"
        self.attempt = 1
        self.max_attempts = 1
        self.registry = registry
        self.config = {
            "files": {"routes": [{"name": "in", "folder": "in", "task": "keep"}]}
        }

    def call(self, task: str, payload: dict[str, Any]) -> Any:
        return {"called": task}

    def progress(self, fraction: float, message: str = "") -> None:
        pass


def test_plugin_format_found_by_entry_point(host: PluginHost) -> None:
    assert "jsonl" in host.registry.names(FILE_FORMAT)


def test_plugin_format_loads_by_extension(host: PluginHost, tmp_path: Path) -> None:
    path = tmp_path / "table.jsonl"
    path.write_text('{"id": 1}\n{"id": 2}\n')
    with pytest.raises(UnsupportedFormatError):
        load_file(path)
    loaded = load_file(path, classes_from_registry(host.registry))
    assert loaded.format == "jsonl"
    assert loaded.summary()["records"] == 2


def test_plugin_format_sniffs_content(host: PluginHost, tmp_path: Path) -> None:
    path = tmp_path / "export.log"
    path.write_text('{"id": 1}\n{"id": 2}\n')
    loaded = load_file(path, classes_from_registry(host.registry))
    assert loaded.format == "jsonl"


def test_plugin_format_used_by_process_task(
    host: PluginHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.jsonl").write_text('{"id": 1}\n')
    (tmp_path / "in" / "bad.jsonl").write_text('{"id": 1}\nnot json\n')
    ctx = Context(host.registry)
    job = {"path": str(tmp_path / "in" / "good.jsonl"), "route": "in"}
    result = process_file(ctx, {**job, "relative": "good.jsonl"})
    assert result["format"] == "jsonl"
    assert (tmp_path / "processed" / "good.jsonl").is_file()
    bad = {"path": str(tmp_path / "in" / "bad.jsonl"), "route": "in"}
    with pytest.raises(PermanentTaskError, match="line 2"):
        process_file(ctx, {**bad, "relative": "bad.jsonl"})
    reason = (tmp_path / "failed" / "bad.jsonl.reason.txt").read_text()
    assert "rejected as a JSONL file" in reason
