"""Tests of the files.process task against real folders."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from sentinel.core import PermanentTaskError, TypeRegistry
from sentinel.files import CsvFile
from sentinel.files._pipeline import move_unique, process_file

from .broken_readers import CrashingFile, LockedFile, registry_with


class Context:
    """A minimal TaskContext whose ``call`` runs in-test downstream tasks."""

    def __init__(
        self,
        config: Mapping[str, Any],
        tasks: dict[str, Callable[[Context, dict[str, Any]], Any]],
        attempt: int = 1,
        max_attempts: int = 3,
        registry: TypeRegistry | None = None,
    ) -> None:
        self.registry = registry
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
    assert "rejected as a JSON file" in reason
    assert "Error code: json-constant." in reason
    assert "What to do:" in reason


def test_process_missing_file_returns_missing(workdir: Path) -> None:
    ctx = Context(config(), {"test.upload": record_upload})
    result = process_file(ctx, payload(workdir, "gone.csv"))
    assert result["status"] == "missing"
    assert ctx.calls == []


@pytest.mark.parametrize(
    ("name", "error"),
    [("x.csv", ConnectionError), ("x.locked", PermissionError)],
    ids=["task-error", "read-oserror"],
)
def test_process_error_propagates_before_last_attempt(
    workdir: Path, name: str, error: type[Exception]
) -> None:
    # The upload task fails for x.csv, and reading fails for x.locked.
    (workdir / "inbox" / name).write_text("id\n1\n")
    registry = registry_with(CsvFile, LockedFile)
    tasks = {"test.upload": flaky_upload}
    ctx = Context(config(), tasks, attempt=1, max_attempts=3, registry=registry)
    with pytest.raises(error):
        process_file(ctx, payload(workdir, name))
    assert (workdir / "inbox" / name).is_file()
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
    names = sorted(path.name for path in (workdir / "failed").iterdir())
    assert names == ["x.csv", "x.csv.reason.txt"]


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


def versioned(workdir: Path, relative: str) -> dict[str, Any]:
    path = workdir / "inbox" / relative
    stat = path.stat()
    return {
        **payload(workdir, relative),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }


def test_process_route_without_name_and_task_uses_defaults(workdir: Path) -> None:
    (workdir / "inbox" / "x.csv").write_text("id\n1\n")
    settings = {"files": {"routes": [{"folder": "inbox"}]}}
    ctx = Context(settings, {"box.upload": record_upload_no_folder})
    result = process_file(ctx, payload(workdir, "x.csv"))
    assert result["status"] == "processed"
    assert ctx.calls[0][0] == "box.upload"


def record_upload_no_folder(ctx: Context, payload: dict[str, Any]) -> str:
    return Path(payload["path"]).name


def test_process_invalid_route_setting_names_key(workdir: Path) -> None:
    settings = {"files": {"routes": [{"folder": "inbox", "task": 5}]}}
    ctx = Context(settings, {})
    with pytest.raises(PermanentTaskError, match=r"files\.routes\[0\]\.task"):
        process_file(ctx, payload(workdir, "x.csv"))


def test_process_symlink_goes_to_failed(workdir: Path) -> None:
    (workdir / "inbox" / "passwd.csv").symlink_to("/etc/passwd")
    ctx = Context(config(), {"test.upload": record_upload})
    with pytest.raises(PermanentTaskError, match="symbolic link"):
        process_file(ctx, payload(workdir, "passwd.csv"))
    assert ctx.calls == []
    assert (workdir / "failed" / "passwd.csv").is_symlink()
    reason = (workdir / "failed" / "passwd.csv.reason.txt").read_text()
    assert "'/etc/passwd'" in reason
    assert "follow_symlinks" in reason


def test_process_symlink_followed_only_inside_folder(workdir: Path) -> None:
    settings = config()
    settings["files"]["routes"][0]["follow_symlinks"] = True
    (workdir / "inbox" / "data").mkdir()
    (workdir / "inbox" / "data" / "real.csv").write_text("id\n1\n")
    (workdir / "inbox" / "inside.csv").symlink_to(
        workdir / "inbox" / "data" / "real.csv"
    )
    (workdir / "inbox" / "outside.csv").symlink_to("/etc/passwd")
    ctx = Context(settings, {"test.upload": record_upload})
    assert process_file(ctx, payload(workdir, "inside.csv"))["status"] == "processed"
    with pytest.raises(PermanentTaskError, match="outside the watched folder"):
        process_file(ctx, payload(workdir, "outside.csv"))
    assert len(ctx.calls) == 1


def test_process_long_name_writes_short_reason(workdir: Path) -> None:
    name = "r" * 245 + ".json"
    (workdir / "inbox" / name).write_text("{")
    ctx = Context(config(), {"test.upload": record_upload})
    with pytest.raises(PermanentTaskError, match="invalid JSON"):
        process_file(ctx, payload(workdir, name))
    assert (workdir / "failed" / name).is_file()
    (reason_file,) = (workdir / "failed").glob("*.reason.txt")
    assert len(reason_file.name.encode()) <= 255
    assert reason_file.name.startswith("r" * 100)
    assert reason_file.read_text().startswith(f"File: {name}\n")


def test_process_unwritable_failed_folder_is_clear(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # root ignores permission bits, so a regular file stands in the way.
    (workdir / "failed").write_text("not a folder")
    (workdir / "inbox" / "bad.json").write_text("{")
    ctx = Context(config(), {"test.upload": record_upload})
    with pytest.raises(PermanentTaskError) as caught:
        process_file(ctx, payload(workdir, "bad.json"))
    message = str(caught.value)
    assert "files.routes[0].failed" in message
    assert "Not a directory" in message
    assert str(workdir / "failed") in message
    assert (workdir / "inbox" / "bad.json").is_file()
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert errors
    assert all(record.exc_info is None for record in errors)


def test_process_unwritable_processed_folder_is_clear(workdir: Path) -> None:
    (workdir / "processed").write_text("not a folder")
    (workdir / "inbox" / "x.csv").write_text("id\n1\n")
    ctx = Context(config(), {"test.upload": record_upload})
    with pytest.raises(PermanentTaskError, match=r"files\.routes\[0\]\.processed"):
        process_file(ctx, payload(workdir, "x.csv"))
    assert (workdir / "inbox" / "x.csv").is_file()


def test_process_changed_file_is_left_for_watcher(workdir: Path) -> None:
    path = workdir / "inbox" / "x.csv"
    path.write_text("id\n1\n")
    job = versioned(workdir, "x.csv")
    with path.open("a") as stream:
        stream.write("2\n")
    ctx = Context(config(), {"test.upload": record_upload})
    assert process_file(ctx, job)["status"] == "changed"
    assert ctx.calls == []
    assert path.is_file()


def test_process_file_changed_during_task_not_moved(workdir: Path) -> None:
    path = workdir / "inbox" / "x.csv"
    path.write_text("id\n1\n")

    def append_then_upload(ctx: Context, task_payload: dict[str, Any]) -> str:
        with path.open("a") as stream:
            stream.write("2\n")
        return "uploaded"

    ctx = Context(config(), {"test.upload": append_then_upload})
    result = process_file(ctx, versioned(workdir, "x.csv"))
    assert result["status"] == "changed"
    assert path.is_file()
    assert not (workdir / "processed" / "x.csv").exists()


def test_process_empty_csv_reason_is_consistent(workdir: Path) -> None:
    (workdir / "inbox" / "zero.csv").write_bytes(b"")
    ctx = Context(config(), {"test.upload": record_upload})
    with pytest.raises(PermanentTaskError):
        process_file(ctx, payload(workdir, "zero.csv"))
    reason = (workdir / "failed" / "zero.csv.reason.txt").read_text()
    assert "rejected as a CSV file" in reason
    assert "expected csv content" in reason
    assert "unknown format" not in reason


def test_process_xml_reason_has_one_location(workdir: Path) -> None:
    lines = ["<root>"] + ["  <item/>"] * 5 + ['  <item a="1" a="2"/>', "</root>"]
    (workdir / "inbox" / "bad.xml").write_text("\n".join(lines))
    ctx = Context(config(), {"test.upload": record_upload})
    with pytest.raises(PermanentTaskError):
        process_file(ctx, payload(workdir, "bad.xml"))
    reason = (workdir / "failed" / "bad.xml.reason.txt").read_text()
    assert "rejected as an XML file" in reason
    assert "Location: line 7, column 15." in reason
    assert "column 14" not in reason
    assert reason.count("line 7") == 1


def test_process_logs_newline_name_escaped(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = "evil\nERROR forged line.csv"
    (workdir / "inbox" / name).write_text("id\n1\n")
    ctx = Context(config(), {"test.upload": record_upload})
    caplog.set_level("INFO")
    process_file(ctx, payload(workdir, name))
    messages = [record.getMessage() for record in caplog.records]
    assert any("evil\\nERROR" in message for message in messages)
    assert all("\n" not in message for message in messages)


def pipeline_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "sentinel.files._pipeline" and record.levelname == "WARNING"
    ]


def test_ragged_csv_logs_first_warnings(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = "".join(f"{n}\n" if n % 2 else f"{n},x\n" for n in range(1, 17))
    (workdir / "inbox" / "ragged.csv").write_text("id,name\n" + rows)
    ctx = Context(config(), {"test.upload": record_upload})
    with caplog.at_level("WARNING", logger="sentinel.files._pipeline"):
        result = process_file(ctx, payload(workdir, "ragged.csv"))
    assert result["status"] == "processed"
    count = result["summary"]["warnings"]
    assert count >= 8
    details = result["summary"]["warning_details"]
    assert len(details) == count
    ragged = [issue for issue in details if issue["code"] == "ragged-row"]
    assert ragged[0]["row"] == 1
    assert "row 1 has 1 field" in ragged[0]["message"]
    messages = pipeline_warnings(caplog)
    assert len(messages) == 1
    assert "ragged.csv" in messages[0]
    assert f"processed with {count} warnings: row 1: row 1 has 1 field" in messages[0]
    assert messages[0].count("; row ") == 4
    assert messages[0].endswith(f"; and {count - 5} more")


def test_one_warning_logged_without_more(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (workdir / "inbox" / "short.csv").write_text("id,name\n1,a\n2\n3,c\n")
    ctx = Context(config(), {"test.upload": record_upload})
    with caplog.at_level("WARNING", logger="sentinel.files._pipeline"):
        result = process_file(ctx, payload(workdir, "short.csv"))
    assert result["summary"]["warnings"] == 1
    messages = pipeline_warnings(caplog)
    assert len(messages) == 1
    assert "processed with 1 warning: row 2: row 2 has 1 field" in messages[0]
    assert "more" not in messages[0]


def test_clean_file_logs_no_warning(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (workdir / "inbox" / "clean.csv").write_text("id,name\n1,a\n")
    ctx = Context(config(), {"test.upload": record_upload})
    with caplog.at_level("WARNING", logger="sentinel.files._pipeline"):
        result = process_file(ctx, payload(workdir, "clean.csv"))
    assert result["summary"]["warnings"] == 0
    assert result["summary"]["warning_details"] == []
    assert pipeline_warnings(caplog) == []


def test_job_result_keeps_bounded_warnings(workdir: Path) -> None:
    rows = "".join(f"{n}\n" for n in range(1, 41))
    (workdir / "inbox" / "many.csv").write_text("id,name\n" + rows)
    ctx = Context(config(), {"test.upload": record_upload})
    result = process_file(ctx, payload(workdir, "many.csv"))
    assert result["summary"]["warnings"] > 20
    assert len(result["summary"]["warning_details"]) == 20


def test_process_deep_yaml_moves_to_failed(workdir: Path) -> None:
    (workdir / "inbox" / "deep.yaml").write_text("[" * 100_000)
    ctx = Context(config(), {"test.upload": record_upload}, attempt=1)
    with pytest.raises(PermanentTaskError, match="nest deeper than"):
        process_file(ctx, payload(workdir, "deep.yaml"))
    assert ctx.calls == []
    assert not (workdir / "inbox" / "deep.yaml").exists()
    reason = (workdir / "failed" / "deep.yaml.reason.txt").read_text()
    assert "Error code: nesting-depth." in reason
    assert "What to do: Flatten the structure." in reason


def test_process_reader_bug_moves_on_first_attempt(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (workdir / "inbox" / "x.crash").write_text("anything")
    registry = registry_with(CrashingFile)
    ctx = Context(config(), {}, attempt=1, max_attempts=4, registry=registry)
    with pytest.raises(PermanentTaskError, match="ValueError") as caught:
        process_file(ctx, payload(workdir, "x.crash"))
    assert "bug in the reader" in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)
    assert not (workdir / "inbox" / "x.crash").exists()
    reason = (workdir / "failed" / "x.crash.reason.txt").read_text()
    assert "Error code: reader-error." in reason
    assert "ValueError: unpacked 3 values, expected 2" in reason
    assert "broken_readers.CrashingFile file class" in reason
    assert "What to do: Report the bug" in reason
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert errors[0].exc_info is not None


def test_process_read_oserror_moves_on_last(workdir: Path) -> None:
    (workdir / "inbox" / "x.locked").write_text("anything")
    registry = registry_with(LockedFile)
    ctx = Context(config(), {}, attempt=3, max_attempts=3, registry=registry)
    with pytest.raises(PermanentTaskError, match="Permission denied"):
        process_file(ctx, payload(workdir, "x.locked"))
    assert not (workdir / "inbox" / "x.locked").exists()
    reason = (workdir / "failed" / "x.locked.reason.txt").read_text()
    assert "Error code: read-failed." in reason
    assert "PermissionError" in reason
    assert "no other program locks it" in reason


def test_process_any_error_on_last_attempt_moves(workdir: Path) -> None:
    # A failure outside reading and the task, here from the task context.
    (workdir / "inbox" / "x.csv").write_text("id\n1\n")

    class FailingProgress(Context):
        def progress(self, fraction: float, message: str = "") -> None:
            raise RuntimeError("progress store is down")

    first = FailingProgress(config(), {}, attempt=1, max_attempts=2)
    with pytest.raises(RuntimeError):
        process_file(first, payload(workdir, "x.csv"))
    assert (workdir / "inbox" / "x.csv").is_file()

    last = FailingProgress(config(), {}, attempt=2, max_attempts=2)
    with pytest.raises(RuntimeError):
        process_file(last, payload(workdir, "x.csv"))
    assert not (workdir / "inbox" / "x.csv").exists()
    reason = (workdir / "failed" / "x.csv.reason.txt").read_text()
    assert "last of 2 attempts" in reason
    assert "RuntimeError: progress store is down" in reason


def test_process_nul_csv_moves_to_failed(workdir: Path) -> None:
    (workdir / "inbox" / "nul.csv").write_bytes(b"\x00" * 1000)
    ctx = Context(config(), {"test.upload": record_upload})
    with pytest.raises(PermanentTaskError, match="NUL byte at byte offset 0"):
        process_file(ctx, payload(workdir, "nul.csv"))
    assert ctx.calls == []
    reason = (workdir / "failed" / "nul.csv.reason.txt").read_text()
    assert "Error code: nul-byte." in reason
    assert "Location: line 1." in reason
    assert "What to do: This is not a text file" in reason


@pytest.mark.parametrize(
    ("path", "relative", "message"),
    [
        ("outside/x.csv", "x.csv", "is not"),
        ("outside/x.csv", "../outside/x.csv", "without '.' or '..'"),
        ("inbox/csv/x.csv", "x.csv", "is not"),
        ("inbox/csv/y.csv", "csv/x.csv", "is not"),
        ("inbox/x.csv", "/x.csv", "without '.' or '..'"),
        ("inbox/csv/../../outside/x.csv", "csv/x.csv", "is not"),
        ("inbox/linked/x.csv", "linked/x.csv", "outside the watched folder"),
        ("inbox/processed/x.csv", "processed/x.csv", "output folder"),
    ],
    ids=[
        "outside-folder",
        "dotdot-relative",
        "relative-mismatch",
        "name-mismatch",
        "absolute-relative",
        "dotdot-path",
        "symlinked-folder",
        "processed-inside-inbox",
    ],
)
def test_process_rejects_path_outside_route(
    workdir: Path, path: str, relative: str, message: str
) -> None:
    settings = config()
    settings["files"]["routes"][0]["processed"] = "inbox/processed"
    (workdir / "outside").mkdir()
    (workdir / "outside" / "x.csv").write_text("id\n1\n")
    (workdir / "inbox" / "csv" / "x.csv").write_text("id\n1\n")
    (workdir / "inbox" / "linked").symlink_to(workdir / "outside")
    (workdir / "inbox" / "processed").mkdir()
    (workdir / "inbox" / "processed" / "x.csv").write_text("id\n1\n")
    ctx = Context(settings, {"test.upload": record_upload})
    job = {"path": str(workdir / path), "route": "inbox", "relative": relative}

    with pytest.raises(PermanentTaskError, match="was rejected") as raised:
        process_file(ctx, job)

    assert message in str(raised.value)
    assert ctx.calls == []
    assert (workdir / "outside" / "x.csv").is_file()
    assert (workdir / "inbox" / "csv" / "x.csv").is_file()
    assert (workdir / "inbox" / "processed" / "x.csv").is_file()
    assert not (workdir / "failed").exists()


def test_process_accepts_relative_payload_path(workdir: Path) -> None:
    (workdir / "inbox" / "csv" / "x.csv").write_text("id\n1\n")
    ctx = Context(config(), {"test.upload": record_upload})
    job = {"path": "inbox/csv/x.csv", "route": "inbox", "relative": "csv/x.csv"}
    assert process_file(ctx, job)["status"] == "processed"


def test_process_unterminated_quote_moves_to_failed(workdir: Path) -> None:
    (workdir / "inbox" / "u.csv").write_bytes(b'a,b\n"abc,1\n2,3\n')
    ctx = Context(config(), {"test.upload": record_upload})
    with pytest.raises(PermanentTaskError, match="never closed"):
        process_file(ctx, payload(workdir, "u.csv"))
    assert ctx.calls == []
    assert (workdir / "failed" / "u.csv").is_file()
    reason = (workdir / "failed" / "u.csv.reason.txt").read_text()
    assert "Error code: csv-unterminated-quote." in reason
