"""Tests of folder paths, idempotent uploads and the box.upload task."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from box_sdk_gen import BoxAPIError, BoxClient

from sentinel.box import (
    BoxConfigError,
    BoxEmulator,
    BoxPathError,
    box_download,
    box_sync,
    box_upload,
    ensure_folder,
    make_client,
    resolve_folder,
    split_path,
    upload_file,
)
from sentinel.box._tasks import PAYLOAD_KEYS
from sentinel.core import PermanentTaskError

pytestmark = pytest.mark.timeout(60)


class InProcessContext:
    """A minimal TaskContext for running a task in the test process."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.job_id = "job-1"
        self.task = "box.upload"
        self.attempt = 1
        self.max_attempts = 3
        self.config = config
        self.reports: list[tuple[float, str]] = []

    def call(self, task: str, payload: Mapping[str, Any]) -> Any:
        raise AssertionError(f"box.upload must not call {task}")

    def progress(self, fraction: float, message: str = "") -> None:
        self.reports.append((fraction, message))


@pytest.mark.parametrize(
    ("path", "names"),
    [("/", []), ("", []), ("/a/b/", ["a", "b"]), ("a//b", ["a", "b"])],
    ids=["root", "empty", "trailing", "double-slash"],
)
def test_split_path_cases(path: str, names: list[str]) -> None:
    assert split_path(path) == names


@pytest.mark.parametrize(
    "path", ["/a/../b", "/a\\b", "/a /b"], ids=["dots", "bs", "space"]
)
def test_split_path_rejects_invalid(path: str) -> None:
    with pytest.raises(BoxPathError):
        split_path(path)


def test_ensure_folder_creates_path(client: BoxClient, emulator: BoxEmulator) -> None:
    folder_id = ensure_folder(client, "/Sentinel/Inbox/csv")
    assert ensure_folder(client, "/sentinel/inbox/CSV") == folder_id
    assert resolve_folder(client, "/Sentinel/Inbox/csv") == folder_id
    assert (emulator.store.root / "Sentinel" / "Inbox" / "csv").is_dir()


def test_ensure_folder_blocked_by_file(client: BoxClient, tmp_path: Path) -> None:
    local = tmp_path / "Inbox"
    local.write_bytes(b"x")
    upload_file(client, local, "/Sentinel")
    with pytest.raises(BoxPathError, match="in the way"):
        ensure_folder(client, "/Sentinel/Inbox/csv")


def test_upload_file_then_skip_then_version(client: BoxClient, tmp_path: Path) -> None:
    local = tmp_path / "report.csv"
    local.write_text("a,b\n1,2\n")
    first = upload_file(client, local, "/Sentinel/Inbox")
    second = upload_file(client, local, "/Sentinel/Inbox")
    local.write_text("a,b\n1,3\n")
    third = upload_file(client, local, "/Sentinel/Inbox")

    assert first.action == "uploaded"
    assert second.action == "skipped"
    assert third.action == "new_version"
    assert first.file_id == second.file_id == third.file_id
    assert third.sha1 != first.sha1
    assert first.box_path == "/Sentinel/Inbox/report.csv"
    assert client.downloads.download_file(first.file_id).read() == b"a,b\n1,3\n"


def test_task_uploads_under_relative_folders(
    box_settings: dict[str, Any], emulator: BoxEmulator, tmp_path: Path
) -> None:
    local = tmp_path / "x.csv"
    local.write_text("id\n1\n")
    ctx = InProcessContext({"box": box_settings})
    payload = {"path": str(local), "folder": "/Sentinel/Inbox", "relative": "csv/x.csv"}

    result = box_upload(ctx, payload)
    again = box_upload(ctx, payload)

    assert result["action"] == "uploaded"
    assert result["box_path"] == "/Sentinel/Inbox/csv/x.csv"
    assert again["action"] == "skipped"
    assert again["file_id"] == result["file_id"]
    assert ctx.reports[-1][0] == 1.0
    stored = emulator.store.root / "Sentinel" / "Inbox" / "csv" / "x.csv"
    assert stored.read_text() == "id\n1\n"


def test_task_name_overrides_file_name(
    box_settings: dict[str, Any], tmp_path: Path
) -> None:
    local = tmp_path / "x.csv"
    local.write_text("id\n")
    payload = {"path": str(local), "folder": "/Out", "name": "renamed.csv"}
    result = box_upload(InProcessContext({"box": box_settings}), payload)
    assert result["box_path"] == "/Out/renamed.csv"


@pytest.mark.parametrize(
    "payload",
    [
        {"folder": "/Out"},
        {"path": "PLACEHOLDER", "folder": "/Out", "relative": "../up/x.csv"},
        {"path": "PLACEHOLDER", "folder": 5},
        {"path": "MISSING", "folder": "/Out"},
    ],
    ids=["no-path", "escaping-relative", "folder-not-string", "missing-file"],
)
def test_task_bad_input_is_permanent(
    box_settings: dict[str, Any], tmp_path: Path, payload: dict[str, Any]
) -> None:
    local = tmp_path / "x.csv"
    local.write_text("id\n")
    replacements = {"PLACEHOLDER": str(local), "MISSING": str(tmp_path / "nope.csv")}
    if "path" in payload:
        payload = {**payload, "path": replacements[payload["path"]]}
    with pytest.raises(PermanentTaskError):
        box_upload(InProcessContext({"box": box_settings}), payload)


MISSING_KEYS = [
    ("box.upload", {"folder": "/Out"}, "'path'"),
    ("box.download", {"box_path": "/Out/x.csv"}, "'destination'"),
    ("box.download", {"destination": "x.csv"}, "'box_path'"),
    ("box.sync", {"path": "."}, "'folder'"),
]


@pytest.mark.parametrize(
    ("task", "payload", "missing"),
    MISSING_KEYS,
    ids=["upload-path", "download-destination", "download-source", "sync-folder"],
)
def test_task_missing_key_lists_payload_keys(
    box_settings: dict[str, Any], task: str, payload: dict[str, Any], missing: str
) -> None:
    functions = {"box.upload": box_upload, "box.download": box_download}
    function = functions.get(task, box_sync)

    with pytest.raises(PermanentTaskError) as raised:
        function(InProcessContext({"box": box_settings}), payload)

    message = str(raised.value)
    assert f"{task} payload has no {missing}" in message
    assert PAYLOAD_KEYS[task] in message
    assert "README" in message
    assert "plugin docs" not in message


def test_payload_keys_match_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text().splitlines()

    for task, keys in PAYLOAD_KEYS.items():
        line = next(line for line in readme if line.startswith(f"- `{task}`"))
        names = set(re.findall(r"[a-z_]+", keys)) - {"and", "or", "optionally"}
        for name in names:
            assert name in line, (task, name)


def test_task_rejected_request_is_permanent(
    box_settings: dict[str, Any], tmp_path: Path
) -> None:
    local = tmp_path / "x.csv"
    local.write_text("id\n")
    ctx = InProcessContext({"box": box_settings})
    box_upload(ctx, {"path": str(local), "folder": "/Out", "name": "blocker"})
    with pytest.raises(PermanentTaskError, match="blocker"):
        box_upload(ctx, {"path": str(local), "folder": "/Out/blocker/deeper"})


def test_task_server_error_propagates(
    box_settings: dict[str, Any], emulator: BoxEmulator, tmp_path: Path
) -> None:
    local = tmp_path / "x.csv"
    local.write_text("id\n")
    emulator.faults.add(503, 1)
    with pytest.raises(BoxAPIError) as caught:
        box_upload(
            InProcessContext({"box": box_settings}),
            {"path": str(local), "folder": "/O"},
        )
    assert not isinstance(caught.value, PermanentTaskError)
    assert caught.value.response_info.status_code == 503


def test_task_without_credentials_is_permanent(tmp_path: Path) -> None:
    local = tmp_path / "x.csv"
    local.write_text("id\n")
    with pytest.raises(PermanentTaskError, match="no Box credentials"):
        box_upload(InProcessContext({}), {"path": str(local), "folder": "/O"})


def test_make_client_needs_ccg_subject() -> None:
    with pytest.raises(BoxConfigError, match="enterprise_id"):
        make_client({"auth": {"client_id": "id", "client_secret": "secret"}})
