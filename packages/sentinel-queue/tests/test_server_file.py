"""Tests of the server file that lets commands find the agent's embedded server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sentinel.queue import EmbeddedRedis, ServerNotFoundError, find_running_server
from sentinel.queue._cli import group as queue_group
from sentinel.queue._redis_cli import group as redis_group

# The data folder that queue.data_dir names by default, under the working folder.
DATA_DIR = Path(".sentinel") / "redis"


@pytest.fixture
def cli_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run commands in tmp_path with no config file and no queue.url."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SENTINEL__QUEUE__URL", raising=False)
    monkeypatch.delenv("SENTINEL__QUEUE__DATA_DIR", raising=False)
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    monkeypatch.delenv("SENTINEL_ENV", raising=False)
    return tmp_path


@pytest.fixture
def agent_server(cli_folder: Path) -> Iterator[EmbeddedRedis]:
    """Start an embedded server where 'sentinel run' in cli_folder puts it."""
    embedded = EmbeddedRedis(cli_folder / DATA_DIR)
    embedded.start()
    yield embedded
    embedded.kill()


def invoke(group: Any, *args: str) -> Result:
    return CliRunner().invoke(group, list(args), catch_exceptions=False)


def dead_pid() -> int:
    """Return the pid of a process that has exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def write_server_file(data_dir: Path, url: str, pid: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    record = {"url": url, "pid": pid}
    (data_dir / "server.json").write_text(json.dumps(record), encoding="utf-8")


def test_server_file_written_on_start(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    try:
        record = json.loads(server.server_file.read_text(encoding="utf-8"))
        assert record == {"url": server.url, "pid": server.pid}
        assert find_running_server(tmp_path / "redis") == server.url
    finally:
        server.stop()
    assert not server.server_file.exists()


def test_server_file_removed_on_kill(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    server.kill()
    assert not server.server_file.exists()


def test_find_server_without_file(tmp_path: Path) -> None:
    with pytest.raises(ServerNotFoundError, match=r"server\.json is missing"):
        find_running_server(tmp_path)


def test_find_server_with_dead_pid(tmp_path: Path) -> None:
    write_server_file(tmp_path, "redis://127.0.0.1:1/0", dead_pid())
    with pytest.raises(ServerNotFoundError, match="which is not running"):
        find_running_server(tmp_path)


def test_find_server_with_other_pid(server: EmbeddedRedis, tmp_path: Path) -> None:
    # A live pid that is not the server's, as after the port was taken again.
    data_dir = tmp_path / "other"
    write_server_file(data_dir, server.url, os.getpid())
    with pytest.raises(ServerNotFoundError, match=f"has pid {server.pid}"):
        find_running_server(data_dir)


def test_find_server_nothing_answers(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    url = server.url
    server.stop()
    write_server_file(tmp_path / "stale", url, os.getpid())
    with pytest.raises(ServerNotFoundError, match="no server responds at that URL"):
        find_running_server(tmp_path / "stale")


def test_find_server_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "server.json").write_text("{", encoding="utf-8")
    with pytest.raises(ServerNotFoundError, match="cannot be read"):
        find_running_server(tmp_path)


def test_queue_status_uses_agent_server(agent_server: EmbeddedRedis) -> None:
    result = invoke(queue_group, "status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["queue"] == "default"


def test_redis_info_uses_agent_server(agent_server: EmbeddedRedis) -> None:
    result = invoke(redis_group, "info", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["url"] == agent_server.url


@pytest.mark.parametrize(
    ("group", "args"),
    [(queue_group, ["status"]), (redis_group, ["info"])],
    ids=["queue-status", "redis-info"],
)
def test_command_without_server_says_how(
    cli_folder: Path, group: Any, args: list[str]
) -> None:
    result = invoke(group, *args)
    assert result.exit_code == 1
    assert "queue.url is not set" in result.output
    assert "server.json is missing" in result.output
    assert "start 'sentinel run' in this folder" in result.output
    assert "SENTINEL__QUEUE__URL=" in result.output


def test_command_with_stale_file_says_so(cli_folder: Path) -> None:
    write_server_file(cli_folder / DATA_DIR, "redis://127.0.0.1:1/0", dead_pid())
    result = invoke(queue_group, "status")
    assert result.exit_code == 1
    assert "which is not running" in result.output
    assert "start 'sentinel run' in this folder" in result.output


def test_configured_url_wins_over_file(
    agent_server: EmbeddedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTINEL__QUEUE__URL", "redis://127.0.0.1:1/0")
    result = invoke(redis_group, "info")
    assert result.exit_code == 1
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in result.output
    assert "set queue.url to null" in result.output
