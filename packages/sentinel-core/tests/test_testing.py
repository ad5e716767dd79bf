"""Tests of the sentinel.testing fixtures, task context and contracts."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sentinel.core import QUEUE_TASK, PluginHost, TypeRegistry, TypeSpec
from sentinel.testing import (
    LocalTaskContext,
    RunningAgent,
    agent_config,
    install_offline,
    run_task,
)

HAS_ALL_PLUGINS = all(
    importlib.util.find_spec(f"sentinel.{name}") is not None
    for name in ("files", "queue", "box")
)


def double(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    return {"value": payload["value"] * 2, "attempt": ctx.attempt}


def call_double(ctx: Any, payload: dict[str, Any]) -> Any:
    return ctx.call("test.double", payload)


def test_sentinel_host_fixture_is_empty(sentinel_host: PluginHost) -> None:
    assert sentinel_host.plugins == []
    assert sentinel_host.registry.kinds() == []


def test_run_task_passes_context_and_config() -> None:
    result = run_task(double, {"value": 4}, config={"x": 1})

    assert result == {"value": 8, "attempt": 1}


def test_local_context_call_uses_registry() -> None:
    registry = TypeRegistry()
    registry.add(TypeSpec(QUEUE_TASK, "test.double", f"{__name__}:double"), "test")
    context = LocalTaskContext("test.outer", registry=registry)

    assert call_double(context, {"value": 5}) == {"value": 10, "attempt": 1}


def test_local_context_call_without_registry_raises() -> None:
    context = LocalTaskContext("test.outer")

    with pytest.raises(LookupError, match="no registry"):
        context.call("test.double", {})


@pytest.mark.parametrize("fraction", [-0.1, 1.5], ids=["negative", "above-one"])
def test_local_context_progress_rejects_range(fraction: float) -> None:
    context = LocalTaskContext("test.task")

    with pytest.raises(ValueError, match=r"expected 0\.0 to 1\.0"):
        context.progress(fraction)

    assert context.progress_reports == []


def test_install_offline_installs_project(tmp_path: Path) -> None:
    plugin = Path(__file__).parent / "plugins" / "hello-a"

    site = install_offline(tmp_path / "site", plugin)

    assert site == tmp_path / "site"
    assert (site / "sentinel_hello_a" / "plugin.toml").is_file()
    assert list(site.glob("sentinel_hello_a-1.0.0.dist-info"))


def test_install_offline_requires_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pass at least one source"):
        install_offline(tmp_path)


def test_agent_config_merges_overrides() -> None:
    settings = agent_config({"queue": {"workers": 0}, "web": {"host": "127.0.0.1"}})

    assert settings["queue"] == {"workers": 0, "retry_backoff": 0.1}
    assert settings["web"] == {"port": 0, "host": "127.0.0.1"}
    assert settings["box"] == {"emulator": {"port": 0}}


def test_running_agent_requires_start(tmp_path: Path) -> None:
    running = RunningAgent(tmp_path)

    with pytest.raises(Exception, match="not started"):
        _ = running.agent
    running.stop()


@pytest.mark.skipif(not HAS_ALL_PLUGINS, reason="needs sentinel-files, -queue, -box")
def test_sentinel_agent_processes_dropped_file(sentinel_agent: RunningAgent) -> None:
    sentinel_agent.drop("csv/orders.csv", "id,total\n1,9.5\n2,3.0\n")

    processed = sentinel_agent.wait_processed("csv/orders.csv")

    assert processed.read_text("utf-8").startswith("id,total")
    assert not (sentinel_agent.inbox / "csv" / "orders.csv").exists()


BROKEN_TYPES = """
from sentinel.core import PermanentTaskError


class LenientFile:
    format = "lenient"
    extensions = (".len",)

    @classmethod
    def load(cls, path):
        return cls()

    def summary(self):
        return {"format": self.format}


def leaky_task(ctx, payload):
    return {"when": object()}
"""

BROKEN_TESTS = """
import pytest

from sentinel.testing.contracts import FileFormatContract, QueueTaskContract


class TestLenientContract(FileFormatContract):
    target = "broken_types:LenientFile"

    @pytest.fixture
    def valid_file(self, tmp_path):
        path = tmp_path / "ok.len"
        path.write_text("fine")
        return path

    @pytest.fixture
    def invalid_file(self, tmp_path):
        path = tmp_path / "bad.len"
        path.write_text("broken")
        return path


class TestLeakyContract(QueueTaskContract):
    target = "broken_types:leaky_task"

    @pytest.fixture
    def valid_payload(self):
        return {}
"""


def test_contracts_fail_on_broken_types(tmp_path: Path) -> None:
    (tmp_path / "broken_types.py").write_text(BROKEN_TYPES, encoding="utf-8")
    (tmp_path / "test_broken.py").write_text(
        textwrap.dedent(BROKEN_TESTS), encoding="utf-8"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL")}
    environ["PYTHONPATH"] = str(tmp_path)

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    failed = {
        line.split("::")[-1].split(" ")[0]
        for line in result.stdout.splitlines()
        if line.startswith("FAILED")
    }
    assert result.returncode == 1, result.stdout
    assert failed >= {
        "test_invalid_file_raises_naming_path",
        "test_empty_file_raises",
        "test_missing_file_raises",
        "test_valid_payload_returns_json",
    }, result.stdout
    assert "test_declares_format_and_extensions" not in failed
