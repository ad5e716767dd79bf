"""Tests of the files service against a real queue server that goes down."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sentinel.core import EventLog
from sentinel.files._service import FileEnqueuer, JobFollower
from sentinel.files._watcher import ReadyFile

pytest.importorskip("sentinel.queue")

from sentinel.queue import EmbeddedRedis, Queue, connect

WAIT_SECONDS = 20.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    embedded = EmbeddedRedis(tmp_path / "redis")
    embedded.start()
    yield embedded
    embedded.kill()


@pytest.fixture
def queue(server: EmbeddedRedis) -> Iterator[Queue]:
    client = connect(server.url)
    yield Queue(client, "files-test")
    client.close()


def ready_file(tmp_path: Path, name: str = "a.csv") -> ReadyFile:
    path = tmp_path / "inbox" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("id\n1\n", encoding="utf-8")
    stat = path.stat()
    return ReadyFile(path, "inbox", name, stat.st_size, stat.st_mtime_ns)


def wait_until(condition: Callable[[], object], description: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {description}")


def error_lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.ERROR and text in record.getMessage()
    ]


def test_enqueuer_enqueues_ready_file(tmp_path: Path, queue: Queue) -> None:
    enqueuer = FileEnqueuer(queue, EventLog())

    enqueuer(ready_file(tmp_path))

    (job,) = queue.jobs("queued")
    assert job["task"] == "files.process"
    assert job["payload"]["route"] == "inbox"


def test_enqueuer_retries_until_server_returns(
    tmp_path: Path,
    server: EmbeddedRedis,
    queue: Queue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sentinel.files._service")
    enqueuer = FileEnqueuer(queue, EventLog(), retry_interval=0.05)
    ready = ready_file(tmp_path)
    server.kill()
    handler = threading.Thread(target=enqueuer, args=(ready,))
    handler.start()

    wait_until(lambda: error_lines(caplog, "cannot enqueue"), "the enqueue error")
    time.sleep(0.3)
    assert handler.is_alive()
    server.start()
    handler.join(WAIT_SECONDS)

    assert not handler.is_alive()
    (message,) = error_lines(caplog, "cannot enqueue")
    assert "queue files-test" in message
    assert "retrying" in message
    assert not any(record.exc_info for record in caplog.records)
    (enqueued,) = [r for r in caplog.records if "enqueued as job" in r.getMessage()]
    assert "failed attempt" in enqueued.getMessage()
    (job,) = queue.jobs("queued")
    assert job["payload"]["path"] == str(ready.path)
    assert enqueuer.abandoned == []


def test_enqueuer_abandons_file_at_stop(
    tmp_path: Path, server: EmbeddedRedis, queue: Queue
) -> None:
    enqueuer = FileEnqueuer(queue, EventLog(), retry_interval=0.05)
    ready = ready_file(tmp_path)
    server.kill()
    handler = threading.Thread(target=enqueuer, args=(ready,))
    handler.start()
    time.sleep(0.2)

    enqueuer.stop()
    handler.join(WAIT_SECONDS)

    assert not handler.is_alive()
    assert enqueuer.abandoned == [ready.path]


def test_enqueuer_without_connection_errors_raises(tmp_path: Path) -> None:
    class BrokenQueue:
        name = "broken"

        def enqueue(self, *args: object, **kwargs: object) -> str:
            raise ConnectionError("no server")

    enqueuer = FileEnqueuer(BrokenQueue(), EventLog())

    with pytest.raises(ConnectionError):
        enqueuer(ready_file(tmp_path))


def test_follower_warns_once_per_outage(
    server: EmbeddedRedis, queue: Queue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sentinel.files._service")
    follower = JobFollower(queue, EventLog(), interval=0.02)
    server.kill()
    follower.start()
    try:
        wait_until(
            lambda: sum("cannot read" in r.getMessage() for r in caplog.records),
            "the follower warning",
        )
        time.sleep(0.3)
        server.start()
        wait_until(
            lambda: any("again after" in r.getMessage() for r in caplog.records),
            "the recovery line",
        )
    finally:
        follower.stop()

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "queue files-test" in warnings[0].getMessage()
    (recovered,) = [r for r in caplog.records if "again after" in r.getMessage()]
    assert "failed attempt" in recovered.getMessage()
