"""``sentinel run`` processes whose embedded server is killed, and two in one folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from sentinel.testing import AgentProcess as BaseAgentProcess
from sentinel.testing import agent_config

pytestmark = pytest.mark.slow

SERVER_FILE = Path(".sentinel") / "redis" / "server.json"
WAIT_SECONDS = 60.0


class AgentProcess(BaseAgentProcess):
    """A ``sentinel run`` child process in ``workdir`` with its output collected."""

    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("SENTINEL") or key == "SENTINEL_CACHE_DIR"
        }
        env.update(extra_env or {})
        super().__init__(workdir, env)

    def wait_for(self, text: str, times: int = 1) -> None:
        wait_until(lambda: self.count(text) >= times, f"{text!r}", self)

    def stop(self, timeout: float = WAIT_SECONDS) -> int:
        """Stop with SIGINT as Ctrl-C does and return the exit code."""
        return super().stop(timeout)


def wait_until(
    condition: Callable[[], object], description: str, agent: AgentProcess
) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {description}; agent output:\n{agent.output()}")


def write_config(folder: Path) -> Path:
    """Write a config for one worker and fast file readiness into ``folder``."""
    settings = agent_config({"queue": {"workers": 1}})
    document = yaml.safe_dump({"default": settings})
    (folder / "sentinel.yaml").write_text(document, encoding="utf-8")
    (folder / "inbox").mkdir()
    return folder


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def agent(workdir: Path) -> Iterator[AgentProcess]:
    running = AgentProcess(workdir)
    try:
        running.wait_for("sentinel is running")
        yield running
    finally:
        running.stop()


class PortBlocker:
    """Listen on a port and close every connection at once, so no server can bind it.

    Clients see their connections closed, as when the server is down.
    """

    def __init__(self, port: int) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 0.4
        while True:
            try:
                self.socket.bind(("127.0.0.1", port))
                break
            except OSError:
                # The killed server may hold the port for a moment longer.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.socket.listen()
        self._thread = threading.Thread(target=self._close_connections, daemon=True)
        self._thread.start()

    def _close_connections(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            connection.close()

    def close(self) -> None:
        self.socket.shutdown(socket.SHUT_RDWR)
        self.socket.close()
        self._thread.join(10)


def server_record(workdir: Path) -> tuple[int, int]:
    """Return the pid and port of the server that server.json names."""
    record = json.loads((workdir / SERVER_FILE).read_text(encoding="utf-8"))
    return int(record["pid"]), int(record["url"].rsplit(":", 1)[1].split("/")[0])


def server_pid(workdir: Path) -> int:
    return server_record(workdir)[0]


def processed(workdir: Path, name: str) -> Callable[[], bool]:
    return (workdir / "processed" / name).exists


def drop(workdir: Path, name: str) -> None:
    """Write a CSV file aside and rename it into the inbox, as a finished upload."""
    partial = workdir / f".{name}.part"
    partial.write_text("id,total\n1,9.5\n", encoding="utf-8")
    partial.replace(workdir / "inbox" / name)


def test_run_restarts_killed_server(workdir: Path, agent: AgentProcess) -> None:
    drop(workdir, "before.csv")
    wait_until(processed(workdir, "before.csv"), "before.csv", agent)
    killed, port = server_record(workdir)

    os.kill(killed, signal.SIGKILL)
    blocker = PortBlocker(port)
    try:
        drop(workdir, "during.csv")
        agent.wait_for("cannot enqueue to queue default")
        agent.wait_for("could not be restarted")
    finally:
        blocker.close()
    wait_until(processed(workdir, "during.csv"), "during.csv", agent)
    restarted = server_pid(workdir)
    code = agent.stop()

    output = agent.output()
    assert code == 0, output
    assert restarted != killed
    assert agent.count("was killed by SIGKILL; restarting it") == 1, output
    assert agent.count(f":{port}/0 started (pid {restarted})") == 1, output
    assert agent.count("cannot enqueue to queue default") == 1, output
    assert agent.count("during.csv': enqueued as job") == 1, output
    assert "Traceback" not in output
    assert agent.count("handler of route") == 0, output
    assert agent.count("cannot read finished jobs") <= 1, output
    assert agent.count(f"(pid {restarted}) stopped") == 1, output
    assert agent.count("was not running at shutdown") == 0, output
    assert not (workdir / "inbox" / "during.csv").exists()


def test_run_stops_when_server_keeps_dying(workdir: Path, agent: AgentProcess) -> None:
    killed: set[int] = set()
    while agent.process.poll() is None and len(killed) < 10:
        server_file = workdir / SERVER_FILE
        if server_file.exists():
            pid = server_pid(workdir)
            if pid not in killed:
                killed.add(pid)
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    code = agent.stop()

    output = agent.output()
    assert code == 1, output
    assert len(killed) == 6, output
    assert agent.count("is not restarted again") >= 1, output
    assert agent.count("stopped after an error") == 1, output
    assert agent.count("sentinel is running") == 1


def test_second_run_in_folder_rejected(workdir: Path, agent: AgentProcess) -> None:
    second = AgentProcess(workdir)
    code = second.process.wait(WAIT_SECONDS)
    second.stop()

    output = second.output()
    assert code == 1, output
    assert f"pid {agent.process.pid}" in output
    assert str(workdir) in output
    assert "another folder" in output
    assert (workdir / SERVER_FILE).exists()
    assert agent.process.poll() is None


def test_run_after_killed_agent_stops_its_server(workdir: Path) -> None:
    first = AgentProcess(workdir)
    first.wait_for("sentinel is running")
    orphan = server_pid(workdir)
    first.process.kill()
    first.stop()

    second = AgentProcess(workdir)
    try:
        second.wait_for("sentinel is running")
        alive = Path(f"/proc/{orphan}").exists()
    finally:
        code = second.stop()

    output = second.output()
    assert code == 0, output
    assert not alive
    assert second.count(f"(pid {orphan}) was left running") == 1, output


def test_run_sharing_data_dir_rejected(workdir: Path, agent: AgentProcess) -> None:
    first_server = server_pid(workdir)
    subfolder = workdir / "sub"
    subfolder.mkdir()
    write_config(subfolder)
    shared = str(workdir / ".sentinel" / "redis")
    second = AgentProcess(subfolder, {"SENTINEL__QUEUE__DATA_DIR": shared})
    code = second.process.wait(WAIT_SECONDS)
    second.stop()

    output = second.output()
    assert code == 1, output
    assert f"data folder {shared} is in use" in output
    assert f"pid {agent.process.pid}" in output
    assert "set queue.data_dir to a folder of its own" in output
    assert "was left running" not in output
    assert agent.process.poll() is None
    assert server_pid(workdir) == first_server
    assert Path(f"/proc/{first_server}").exists()

    drop(workdir, "after.csv")
    wait_until(processed(workdir, "after.csv"), "after.csv", agent)
    assert agent.stop() == 0
    assert agent.count("restarting it") == 0, agent.output()
