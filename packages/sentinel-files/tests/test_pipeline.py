"""Tests of the files.process task against real folders."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from sentinel.core import PermanentTaskError
from sentinel.files._pipeline import move_unique, process_file


class Context:
    """A minimal TaskContext whose ``call`` runs in-test downstream tasks."""

    def __init__(
        self,
        config: Mapping[str, Any],
        tasks: dict[str, Callable[[Context, dict[str, Any]], Any]],
        attempt: int = 1,
        max_attempts: int = 3,
    ) -> None:
        self.job_id = "job-1"
        self.task = "files.process"
        self.attempt = attempt
        self.max_attempts = max_attempts
        self.config = config
        self.tasks = tasks
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, task: str, payload: Mapping[str, Any]) -> Any:
        self.calls.append((task, dict(payload)))
        return self.tasks[task](self, dict(payload))

    def progress(self, fraction: float, message: str = "") -> None:
        pass


def record_upload(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    return {"uploaded": Path(payload["path"]).name, "folder": payload["folder"]}


def flaky_upload(ctx: Context, payload: dict[str, Any]) -> Any:
    raise ConnectionError("Box is unreachable")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inbox" / "csv").mkdir(parents=True)
    return tmp_path


def config(task: str = "test.upload") -> dict[str, Any]:
    route = {
        "name": "inbox",
        "folder": "inbox",
        "patterns": ["*"],
        "recursive": True,
        "task": task,
        "options": {"folder": "/Sentinel/Inbox"},
        "processed": "processed",
        "failed": "failed",
    }
    return {"files": {"routes": [route]}}


def payload(workdir: Path, relative: str) -> dict[str, Any]:
    return {
        "path": str(workdir / "inbox" / relative),
        "route": "inbox",
        "relative": relative,
    }


def test_process_valid_file_calls_task_and_moves(workdir: Path) -> None:
    (workdir / "inbox" / "csv" / "x.csv").write_text("id,name\n1,a\n")
    ctx = Context(config(), {"test.upload": record_upload})
    result = process_file(ctx, payload(workdir, "csv/x.csv"))
    assert result["status"] == "processed"
    assert result["format"] == "csv"
    assert result["summary"]["rows"] == 1
    assert result["result"] == {"uploaded": "x.csv", "folder": "/Sentinel/Inbox"}
    assert ctx.calls[0][1]["relative"] == "csv/x.csv"
    assert (workdir / "processed" / "csv" / "x.csv").is_file()
    assert not (workdir / "inbox" / "csv" / "x.csv").exists()


def test_process_invalid_file_moves_to_failed(workdir: Path) -> None:
    (workdir / "inbox" / "bad.json").write_text('{"a": NaN}')
    ctx = Context(config(), {"test.upload": record_upload})
    with pytest.raises(PermanentTaskError, match="NaN"):
        process_file(ctx, payload(workdir, "bad.json"))
    assert ctx.calls == []
    assert (workdir / "failed" / "bad.json").is_file()
    reason = (workdir / "failed" / "bad.json.reason.txt").read_text()
    assert "rejected as json" in reason
    assert "Error code: json-constant." in reason
    assert "What to do:" in reason


def test_process_missing_file_returns_missing(workdir: Path) -> None:
    ctx = Context(config(), {"test.upload": record_upload})
    result = process_file(ctx, payload(workdir, "gone.csv"))
    assert result["status"] == "missing"
    assert ctx.calls == []


def test_process_task_error_propagates_before_last_attempt(workdir: Path) -> None:
    (workdir / "inbox" / "x.csv").write_text("id\n1\n")
    ctx = Context(config(), {"test.upload": flaky_upload}, attempt=1, max_attempts=3)
    with pytest.raises(ConnectionError):
        process_file(ctx, payload(workdir, "x.csv"))
    assert (workdir / "inbox" / "x.csv").is_file()
    assert not (workdir / "failed").exists()


def test_process_task_error_on_last_attempt_moves_to_failed(workdir: Path) -> None:
    (workdir / "inbox" / "x.csv").write_text("id\n1\n")
    ctx = Context(config(), {"test.upload": flaky_upload}, attempt=3, max_attempts=3)
    with pytest.raises(ConnectionError):
        process_file(ctx, payload(workdir, "x.csv"))
    assert not (workdir / "inbox" / "x.csv").exists()
    reason = (workdir / "failed" / "x.csv.reason.txt").read_text()
    assert "last of 3 attempts" in reason
    assert "Box is unreachable" in reason


def test_process_unknown_route_is_permanent(workdir: Path) -> None:
    ctx = Context(config(), {})
    with pytest.raises(PermanentTaskError, match="route 'other'"):
        process_file(ctx, {"path": "x", "route": "other", "relative": "x"})


def test_process_clash_adds_numeric_suffix(workdir: Path) -> None:
    (workdir / "processed").mkdir()
    (workdir / "processed" / "x.csv").write_text("old\n")
    (workdir / "inbox" / "x.csv").write_text("id\n1\n")
    ctx = Context(config(), {"test.upload": record_upload})
    result = process_file(ctx, payload(workdir, "x.csv"))
    assert Path(result["path"]).name == "x (1).csv"
    assert (workdir / "processed" / "x.csv").read_text() == "old\n"


def test_move_unique_counts_up(tmp_path: Path) -> None:
    for name in ("a.txt", "a (1).txt"):
        (tmp_path / name).write_text("x")
    source = tmp_path / "src.txt"
    source.write_text("new")
    assert move_unique(source, tmp_path / "a.txt").name == "a (2).txt"
