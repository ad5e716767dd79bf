"""Tests of the lock that gives one embedded server per data folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentinel.queue import DataDirInUseError, EmbeddedRedis, connect
from sentinel.queue._server import remove_server_file

WAIT_SECONDS = 30.0

# Starts a server on the data folder in argv[1], prints its pid, then sleeps
# until killed, as an agent does.
OWNER_SCRIPT = """
import sys, time
from sentinel.queue import EmbeddedRedis
server = EmbeddedRedis(sys.argv[1])
server.start()
print(server.pid, flush=True)
time.sleep(600)
"""


class OwnerProcess:
    """A Python child process that owns an embedded server on ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", OWNER_SCRIPT, str(data_dir)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip().isdigit(), f"owner process printed {line!r}"
        self.server_pid = int(line)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie process still accepts signal 0, so its state letter (Z) tells.
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_for_exit(pid: int) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def owner(tmp_path: Path) -> Iterator[OwnerProcess]:
    running = OwnerProcess(tmp_path / "redis")
    try:
        yield running
    finally:
        running.kill()
        # The server outlives a killed owner; stop it so no test leaks it.
        if process_alive(running.server_pid):
            os.kill(running.server_pid, signal.SIGKILL)


def server_record(data_dir: Path) -> dict[str, object]:
    record: dict[str, object] = json.loads(
        (data_dir / "server.json").read_text(encoding="utf-8")
    )
    return record


def test_second_instance_same_folder_rejected(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "redis") as first:
        second = EmbeddedRedis(tmp_path / "redis")
        with pytest.raises(DataDirInUseError) as error:
            second.start()
        assert not second.running
        assert first.running
        assert server_record(first.data_dir)["pid"] == first.pid
        message = str(error.value)
        assert str(first.data_dir) in message
        assert f"pid {os.getpid()}" in message
        assert "queue.data_dir" in message
        second.stop()
        assert server_record(first.data_dir)["pid"] == first.pid
    assert not (tmp_path / "redis" / "server.json").exists()


def test_lock_held_by_other_process(tmp_path: Path, owner: OwnerProcess) -> None:
    data_dir = tmp_path / "redis"
    with pytest.raises(DataDirInUseError, match=f"pid {owner.process.pid}"):
        EmbeddedRedis(data_dir).start()
    assert process_alive(owner.server_pid)
    assert server_record(data_dir)["pid"] == owner.server_pid


def test_orphan_stopped_after_owner_killed(tmp_path: Path, owner: OwnerProcess) -> None:
    data_dir = tmp_path / "redis"
    orphan = owner.server_pid
    client = connect(str(server_record(data_dir)["url"]))
    client.set("kept", "yes")
    owner.kill()
    assert process_alive(orphan)

    server = EmbeddedRedis(data_dir)
    server.start()
    try:
        assert wait_for_exit(orphan)
        assert server.pid != orphan
        assert server_record(data_dir)["pid"] == server.pid
        restarted = connect(server.url)
        assert restarted.get("kept") == "yes"
        restarted.close()
    finally:
        client.close()
        server.stop()


def test_restart_keeps_folder_locked(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    try:
        server.restart()
        with pytest.raises(DataDirInUseError):
            EmbeddedRedis(tmp_path / "redis").start()
    finally:
        server.stop()
    # stop() released the lock, so another instance may start now.
    with EmbeddedRedis(tmp_path / "redis") as again:
        assert again.running


def test_kill_releases_lock(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    server.kill()
    with EmbeddedRedis(tmp_path / "redis") as again:
        assert again.running


def test_server_file_kept_when_naming_other(tmp_path: Path) -> None:
    record = {"url": "redis://127.0.0.1:1/0", "pid": 12345}
    path = tmp_path / "server.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    remove_server_file(tmp_path, 54321)
    assert path.exists()
    remove_server_file(tmp_path, 12345)
    assert not path.exists()
