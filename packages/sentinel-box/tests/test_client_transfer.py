"""Tests of uploads, chunked uploads, downloads, mirroring, paths and paging."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from box_sdk_gen import BoxClient
from box_sdk_gen.managers.uploads import UploadFileVersionAttributes

from sentinel.box import (
    BoxEmulator,
    ChunkedUpload,
    UploadOptions,
    box_download,
    box_sync,
    cache_for,
    download_file,
    ensure_folder,
    file_sha1,
    folder_path,
    iter_items,
    iter_search,
    make_client,
    resolve_file,
    sync_folder,
    upload_file,
)
from sentinel.box._emulator import EmulatorConfig
from sentinel.box._paths import delete_folder
from sentinel.box._upload import free_name, upload_to_folder
from sentinel.core import PermanentTaskError

from .conftest import settings_for

pytestmark = pytest.mark.timeout(120)

PART = 64 * 1024
PART_PUT = "/api/2.0/files/upload_sessions/"


class InProcessContext:
    """A minimal TaskContext for running a task in the test process."""

    def __init__(self, task: str, config: Mapping[str, Any]) -> None:
        self.job_id = "job-1"
        self.task = task
        self.attempt = 1
        self.max_attempts = 3
        self.config = config
        self.reports: list[tuple[float, str]] = []

    def call(self, task: str, payload: Mapping[str, Any]) -> Any:
        raise AssertionError(f"{self.task} must not call {task}")

    def progress(self, fraction: float, message: str = "") -> None:
        self.reports.append((fraction, message))


@pytest.fixture
def chunked_emulator(tmp_path: Path) -> Iterator[BoxEmulator]:
    config = EmulatorConfig(part_size=PART, min_chunked_size=0)
    with BoxEmulator(tmp_path / "box", config=config) as running:
        yield running


@pytest.fixture
def chunked_client(chunked_emulator: BoxEmulator) -> BoxClient:
    return make_client(settings_for(chunked_emulator, max_attempts=3))


def _chunked(sessions: Path | None = None) -> UploadOptions:
    return UploadOptions(chunked_threshold=1, sessions_dir=sessions)


def _write(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def test_chunked_upload_of_exact_multiple_of_part_size(
    chunked_client: BoxClient, tmp_path: Path
) -> None:
    local = tmp_path / "exact.bin"
    data = _write(local, 4 * PART)
    uploader = ChunkedUpload(chunked_client, local, file_sha1(local), _chunked())
    folder_id = ensure_folder(chunked_client, "/Big")

    file_id = uploader.upload_new(folder_id, "exact.bin")

    assert uploader.parts_uploaded == 4
    assert chunked_client.downloads.download_file(file_id).read() == data


def test_upload_file_goes_chunked_above_threshold(
    chunked_client: BoxClient, chunked_emulator: BoxEmulator, tmp_path: Path
) -> None:
    local = tmp_path / "odd.bin"
    data = _write(local, 2 * PART + 123)

    result = upload_file(chunked_client, local, "/Big", options=_chunked())
    data2 = _write(local, 3 * PART + 5)
    again = upload_file(chunked_client, local, "/Big", options=_chunked())

    assert result.action == "uploaded"
    assert again.action == "new_version"
    assert chunked_emulator.requests.count("PUT " + PART_PUT + "{session}") == 7
    assert chunked_client.downloads.download_file(result.file_id).read() == data2
    assert data != data2


def test_part_stored_during_500_is_reconciled_after_409(
    chunked_client: BoxClient, chunked_emulator: BoxEmulator, tmp_path: Path
) -> None:
    local = tmp_path / "flaky.bin"
    data = _write(local, 3 * PART)
    # The server keeps the first part it receives but responds 500, so the
    # client's retry of that part then gets 409 (range already stored).
    chunked_emulator.faults.add(500, 1, method="PUT", path_prefix=PART_PUT, after=True)
    uploader = ChunkedUpload(chunked_client, local, file_sha1(local), _chunked())

    file_id = uploader.upload_new(ensure_folder(chunked_client, "/Big"), "flaky.bin")

    statuses = [
        record.status
        for record in chunked_emulator.requests.records()
        if record.method == "PUT"
    ]
    assert statuses[:2] == [500, 409]
    assert uploader.parts_reused == 1
    assert uploader.parts_uploaded == 2
    assert chunked_client.downloads.download_file(file_id).read() == data


def test_interrupted_chunked_upload_resumes_from_stored_parts(
    chunked_client: BoxClient, tmp_path: Path
) -> None:
    local = tmp_path / "resume.bin"
    data = _write(local, 4 * PART)
    sessions = tmp_path / "sessions"

    def crash_after_two_parts(fraction: float, message: str) -> None:
        if "uploaded 131072 of" in message:
            raise KeyboardInterrupt

    options = _chunked(sessions)
    options.progress = crash_after_two_parts
    with pytest.raises(KeyboardInterrupt):
        upload_file(chunked_client, local, "/Big", options=options)
    assert len(list(sessions.glob("*.json"))) == 1

    folder_id = ensure_folder(chunked_client, "/Big")
    uploader = ChunkedUpload(
        chunked_client, local, file_sha1(local), _chunked(sessions)
    )
    file_id = uploader.upload_new(folder_id, "resume.bin")

    assert (uploader.parts_reused, uploader.parts_uploaded) == (2, 2)
    assert not list(sessions.glob("*.json"))
    assert chunked_client.downloads.download_file(file_id).read() == data


@pytest.mark.parametrize(
    ("policy", "action", "name"),
    [
        ("overwrite", "new_version", "report.csv"),
        ("rename", "renamed", "report (1).csv"),
        ("skip", "skipped", "report.csv"),
    ],
)
def test_conflict_policies(
    client: BoxClient, tmp_path: Path, policy: str, action: str, name: str
) -> None:
    local = tmp_path / "report.csv"
    local.write_text("a\n1\n")
    first = upload_file(client, local, "/Reports")
    local.write_text("a\n2\n")

    result = upload_file(
        client, local, "/Reports", options=UploadOptions(on_conflict=policy)
    )

    assert result.action == action
    assert result.box_path == f"/Reports/{name}"
    items = list(iter_items(client, ensure_folder(client, "/Reports")))
    assert len(items) == (2 if policy == "rename" else 1)
    assert first.file_id in {str(item.id) for item in items}


def test_free_name_numbers_past_taken_names() -> None:
    taken = {"a.csv", "a (1).csv", "a (2).csv"}
    assert free_name("a.csv", taken) == "a (3).csv"
    assert free_name("a (1).csv", taken) == "a (3).csv"
    assert free_name("README", set()) == "README (1)"


def test_download_checks_sha1_and_skips_identical(
    client: BoxClient, tmp_path: Path
) -> None:
    local = tmp_path / "up.bin"
    data = _write(local, 100_000)
    uploaded = upload_file(client, local, "/Out")
    target = tmp_path / "down"
    target.mkdir()

    first = download_file(client, uploaded.file_id, target)
    second = download_file(client, uploaded.file_id, target)

    assert first.action == "downloaded"
    assert second.action == "skipped"
    assert (target / "up.bin").read_bytes() == data
    assert first.sha1 == hashlib.sha1(data, usedforsecurity=False).hexdigest()
    assert resolve_file(client, "/Out/up.bin") == uploaded.file_id
    assert not [p for p in target.iterdir() if p.name.endswith(".part")]


def _upload_bom(client: BoxClient, tmp_path: Path) -> str:
    local = tmp_path / "bom.csv"
    local.write_text("part,count\n")
    return upload_file(client, local, "/Out").file_id


def test_download_to_trailing_separator_creates_folder(
    client: BoxClient, tmp_path: Path
) -> None:
    file_id = _upload_bom(client, tmp_path)
    folder = tmp_path / "x" / "dl"

    result = download_file(client, file_id, f"{folder}{os.sep}")

    assert folder.is_dir()
    assert (folder / "bom.csv").read_text() == "part,count\n"
    assert result.path == str(folder / "bom.csv")


def test_download_to_separator_after_file_raises(
    client: BoxClient, tmp_path: Path
) -> None:
    file_id = _upload_bom(client, tmp_path)
    existing = tmp_path / "dl"
    existing.write_text("keep")

    with pytest.raises(NotADirectoryError, match="names a folder"):
        download_file(client, file_id, f"{existing}{os.sep}")
    assert existing.read_text() == "keep"


def test_download_without_separator_names_file(
    client: BoxClient, tmp_path: Path
) -> None:
    file_id = _upload_bom(client, tmp_path)
    target = tmp_path / "x" / "dl"

    download_file(client, file_id, target)

    assert target.read_text() == "part,count\n"


def test_sync_mirrors_a_folder(client: BoxClient, tmp_path: Path) -> None:
    local = tmp_path / "tree"
    (local / "sub" / "deeper").mkdir(parents=True)
    (local / "a.txt").write_text("a")
    (local / "sub" / "b.txt").write_text("b")
    (local / "sub" / "deeper" / "c.txt").write_text("c")
    (local / "gone.txt").write_text("gone")

    first = sync_folder(client, local, "/Mirror")
    (local / "a.txt").write_text("a2")
    (local / "gone.txt").unlink()
    (local / "new.txt").write_text("new")
    second = sync_folder(client, local, "/Mirror", delete=True)

    assert first.to_dict()["counts"]["uploaded"] == 4
    counts = second.to_dict()["counts"]
    assert counts == {
        "uploaded": 1,
        "new_version": 1,
        "renamed": 0,
        "skipped": 2,
        "deleted": 1,
    }
    assert second.deleted == ["/Mirror/gone.txt"]
    root = ensure_folder(client, "/Mirror")
    assert sorted(str(i.name) for i in iter_items(client, root)) == [
        "a.txt",
        "new.txt",
        "sub",
    ]


def test_marker_paging_reads_every_item(client: BoxClient, tmp_path: Path) -> None:
    for index in range(7):
        local = tmp_path / f"f{index}.txt"
        local.write_text(str(index))
        upload_file(client, local, "/Paged")
    folder_id = ensure_folder(client, "/Paged")

    names = [str(item.name) for item in iter_items(client, folder_id, page_size=3)]

    assert sorted(names) == [f"f{index}.txt" for index in range(7)]


def test_search_paging_reads_every_result(client: BoxClient, tmp_path: Path) -> None:
    for index in range(5):
        local = tmp_path / f"quarterly-{index}.csv"
        local.write_text(str(index))
        upload_file(client, local, "/Search")
    (tmp_path / "other.csv").write_text("x")
    upload_file(client, tmp_path / "other.csv", "/Search")

    found = list(iter_search(client, "quarterly", kind="file", page_size=2))

    assert sorted(str(item.name) for item in found) == [
        f"quarterly-{index}.csv" for index in range(5)
    ]


def test_path_cache_is_invalidated_on_delete(client: BoxClient) -> None:
    first = ensure_folder(client, "/Cache/Inner")
    cache = cache_for(client)
    assert cache.get("/cache/inner") == first
    assert folder_path(client, first) == "/Cache/Inner"

    delete_folder(client, "/Cache", recursive=True)
    assert cache.get("/Cache/Inner") is None
    second = ensure_folder(client, "/Cache/Inner")

    assert second != first


def test_upload_recovers_from_a_stale_cached_folder(
    client: BoxClient, tmp_path: Path
) -> None:
    local = tmp_path / "x.txt"
    local.write_text("x")
    stale = ensure_folder(client, "/Stale")
    # Deleted by someone else: this process's cache still names the old id.
    client.folders.delete_folder_by_id(stale, recursive=True)

    result = upload_file(client, local, "/Stale")

    assert result.action == "uploaded"
    assert ensure_folder(client, "/Stale") != stale


def test_download_and_sync_tasks(
    box_settings: dict[str, Any], tmp_path: Path, client: BoxClient
) -> None:
    local = tmp_path / "tree"
    local.mkdir()
    (local / "one.txt").write_text("one")
    sync_ctx = InProcessContext("box.sync", {"box": box_settings})
    synced = box_sync(sync_ctx, {"path": str(local), "folder": "/Tasks"})
    out = tmp_path / "out.txt"
    download_ctx = InProcessContext("box.download", {"box": box_settings})

    result = box_download(
        download_ctx, {"box_path": "/Tasks/one.txt", "destination": str(out)}
    )

    assert synced["counts"]["uploaded"] == 1
    assert result["action"] == "downloaded"
    assert out.read_text() == "one"
    with pytest.raises(PermanentTaskError, match="does not exist"):
        box_download(
            download_ctx, {"box_path": "/Tasks/missing.txt", "destination": str(out)}
        )
    with pytest.raises(PermanentTaskError, match="not a folder"):
        box_sync(sync_ctx, {"path": str(out), "folder": "/Tasks"})


def test_download_task_destination_folder(
    box_settings: dict[str, Any], tmp_path: Path, client: BoxClient
) -> None:
    local = tmp_path / "one.txt"
    local.write_text("one")
    upload_file(client, local, "/Tasks")
    folder = tmp_path / "new" / "dl"
    ctx = InProcessContext("box.download", {"box": box_settings})
    payload = {"box_path": "/Tasks/one.txt", "destination": f"{folder}{os.sep}"}

    result = box_download(ctx, payload)

    assert result["path"] == str(folder / "one.txt")
    assert (folder / "one.txt").read_text() == "one"
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(PermanentTaskError, match="names a folder"):
        box_download(ctx, {**payload, "destination": f"{blocker}{os.sep}"})


def _cli(emulator: BoxEmulator, *args: str) -> Any:
    from click.testing import CliRunner

    from sentinel.core.cli import cli

    env = {key: None for key in os.environ if key.startswith("SENTINEL")}
    env |= {
        "SENTINEL__BOX__API_URL": emulator.api_url,
        "SENTINEL__BOX__UPLOAD_URL": emulator.upload_url,
        "SENTINEL__BOX__AUTH__DEVELOPER_TOKEN": "cli-token",
    }
    result = CliRunner().invoke(cli, ["box", *args, "--json"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_cli_upload_ls_download_sync(emulator: BoxEmulator, tmp_path: Path) -> None:
    local = tmp_path / "cli.txt"
    local.write_text("from the command line")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "t.txt").write_text("t")

    uploaded = _cli(emulator, "upload", str(local), "/Cli")
    listed = _cli(emulator, "ls", "/Cli")
    downloaded = _cli(emulator, "download", "/Cli/cli.txt", str(tmp_path / "back.txt"))
    synced = _cli(emulator, "sync", str(tree), "/Cli/Tree")
    me = _cli(emulator, "whoami")

    assert uploaded["action"] == "uploaded"
    assert [row["name"] for row in listed] == ["cli.txt"]
    assert downloaded["action"] == "downloaded"
    assert (tmp_path / "back.txt").read_text() == "from the command line"
    assert synced["counts"]["uploaded"] == 1
    assert me["id"]


def test_cli_download_to_new_folder(emulator: BoxEmulator, tmp_path: Path) -> None:
    local = tmp_path / "bom.csv"
    local.write_text("part,count\n")
    _cli(emulator, "upload", str(local), "/Sentinel/Test")
    folder = tmp_path / "x" / "dl"

    downloaded = _cli(emulator, "download", "/Sentinel/Test/bom.csv", f"{folder}/")

    assert downloaded["path"] == str(folder / "bom.csv")
    assert (folder / "bom.csv").read_text() == "part,count\n"


def test_new_version_after_412_rereads_the_file(
    client: BoxClient, emulator: BoxEmulator, tmp_path: Path
) -> None:
    local = tmp_path / "race.txt"
    local.write_text("v1")
    first = upload_file(client, local, "/Race")
    folder_id = ensure_folder(client, "/Race")
    listed = {str(item.name).lower(): item for item in iter_items(client, folder_id)}
    # Another client adds a version after this one listed the folder.
    with (tmp_path / "other.txt").open("wb") as stream:
        stream.write(b"other")
    with (tmp_path / "other.txt").open("rb") as stream:
        client.uploads.upload_file_version(
            first.file_id, UploadFileVersionAttributes(name="race.txt"), stream
        )
    local.write_text("v3")

    result = upload_to_folder(
        client,
        local,
        folder="/Race",
        folder_id=folder_id,
        name="race.txt",
        sha1=file_sha1(local),
        items=listed,
        options=UploadOptions(),
    )

    assert result.action == "new_version"
    assert emulator.requests.count(status=412) == 1
    assert client.downloads.download_file(first.file_id).read() == b"v3"


def test_upload_retried_after_500_resends_body(
    emulator: BoxEmulator, tmp_path: Path
) -> None:
    client = make_client(settings_for(emulator, max_attempts=3, retry_backoff=0.01))
    local = tmp_path / "retry.bin"
    data = _write(local, 1_000_000)
    emulator.faults.add(500, 1, path_prefix="/api/2.0/files/content")
    reports: list[float] = []

    options = UploadOptions(progress=lambda fraction, message: reports.append(fraction))
    result = upload_file(client, local, "/Retry", options=options)

    assert result.action == "uploaded"
    assert emulator.requests.count(status=500) == 1
    assert client.downloads.download_file(result.file_id).read() == data
    assert max(reports) == pytest.approx(0.9)


def test_download_rejects_content_with_wrong_sha1(
    client: BoxClient, emulator: BoxEmulator, tmp_path: Path
) -> None:
    from sentinel.box import BoxIntegrityError

    local = tmp_path / "good.bin"
    _write(local, 50_000)
    uploaded = upload_file(client, local, "/Corrupt")
    # Damage the stored copy behind the emulator's back, as a bad disk would.
    stored = emulator.store.root / "Corrupt" / "good.bin"
    stored.write_bytes(os.urandom(50_000))
    target = tmp_path / "copy.bin"

    with pytest.raises(BoxIntegrityError, match="SHA-1"):
        download_file(client, uploaded.file_id, target)

    assert not target.exists()
    assert not list(tmp_path.glob(".copy.bin.*"))
