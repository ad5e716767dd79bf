"""Tests of graceful shutdown: jobs handed back, signals, start-up checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from sentinel.core import Agent, ConfigError, PluginHost, bootstrap
from sentinel.queue import EmbeddedRedis, Queue, QueueConnectionError, Worker, plugin
from sentinel.queue._cli import group


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_stop_hands_back_batch_jobs_not_started(
    queue: Queue, host: PluginHost, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    ids = [queue.enqueue("qtest.record", {"log": str(log)}) for _ in range(20)]
    slow = queue.enqueue("qtest.record", {"log": str(log), "sleep": 1.0})
    worker = Worker(queue, host.registry, name="w-batch", max_batch=64)
    # Fast jobs teach the worker to fetch big batches; the slow one is then
    # running while the rest of its batch waits in the worker.
    for _ in range(10):
        queue.enqueue("qtest.record", {"log": str(log)})
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_for(lambda: any(f"start {slow}" in line for line in lines(log)))
    worker.stop()
    thread.join(30)
    counts = queue.counts()
    assert counts["active"] == 0
    assert counts["done"] + counts["queued"] == len(ids) + 11
    assert (queue.get(slow) or {})["state"] == "done"
    for job in queue.jobs("queued", 100):
        assert job["attempts"] == 0


def test_stop_hands_back_job_that_outlives_grace(
    queue: Queue, host: PluginHost, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    job_id = queue.enqueue("qtest.record", {"log": str(log), "sleep": 3.0})
    abandoned = threading.Event()
    worker = Worker(
        queue,
        host.registry,
        name="w-grace",
        grace_seconds=0.2,
        on_abandon=abandoned.set,
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_for(lambda: bool(lines(log)))
    worker.stop()
    assert abandoned.wait(10)
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "queued"
    assert record["attempts"] == 0
    thread.join(30)
    # The late result of the handed-back delivery is refused by its token.
    assert (queue.get(job_id) or {})["state"] == "queued"


def test_job_timeout_interrupts_attempt(
    queue: Queue, host: PluginHost, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    job_id = queue.enqueue(
        "qtest.record", {"log": str(log), "sleep": 30}, max_retries=0, timeout=0.3
    )
    Worker(queue, host.registry, name="w-timeout").run(burst=True)
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "failed"
    assert "JobTimeoutError" in record["error"]


def test_cancel_running_job_interrupts_it(
    client: redis.Redis, host: PluginHost, tmp_path: Path
) -> None:
    queue = Queue(client, "cancel", lease_seconds=0.3)
    log = tmp_path / "runs.log"
    job_id = queue.enqueue("qtest.record", {"log": str(log), "sleep": 30})
    worker = Worker(queue, host.registry, name="w-cancel")
    thread = threading.Thread(target=worker.run, kwargs={"burst": True})
    thread.start()
    wait_for(lambda: bool(lines(log)))
    assert queue.cancel(job_id) == "cancelling"
    wait_for(lambda: (queue.get(job_id) or {}).get("state") == "cancelled")
    worker.stop()
    thread.join(30)


def test_several_queues_with_weights(client: redis.Redis, host: PluginHost) -> None:
    first, second = Queue(client, "one"), Queue(client, "two")
    a = [first.enqueue("qtest.echo", {"n": n}) for n in range(5)]
    b = [second.enqueue("qtest.echo", {"n": n}) for n in range(5)]
    Worker([first, second], host.registry, weights=[3, 1]).run(burst=True)
    assert {(first.get(i) or {}).get("state") for i in a} == {"done"}
    assert {(second.get(i) or {}).get("state") for i in b} == {"done"}


@pytest.mark.parametrize("value", ["-3", "0"], ids=["negative", "zero"])
def test_startup_rejects_workers_below_one(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SENTINEL__QUEUE__URL", raising=False)
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    host, config = bootstrap()
    # Loading rejects the value first; this checks the plugin's own check,
    # for a host that builds its config without the declared bounds.
    config.values["queue"]["workers"] = int(value)
    agent = Agent(config, host, tmp_path)
    with pytest.raises(ConfigError, match=f"queue.workers is {value}; expected"):
        plugin.sentinel_startup(agent)
    plugin.sentinel_shutdown(agent)
    assert not (tmp_path / ".sentinel" / "redis").exists()


@pytest.fixture
def password_server(server: EmbeddedRedis) -> EmbeddedRedis:
    admin = redis.Redis.from_url(server.url)
    admin.config_set("requirepass", "s3cret-pw")
    admin.close()
    return server


def status_output(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("SENTINEL__QUEUE__URL", url)
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    result = CliRunner().invoke(group, ["status"])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("url_of", "expected"),
    [
        (lambda port: f"redis://:wrong-pw@127.0.0.1:{port}/0", "rejected the password"),
        (lambda port: f"redis://127.0.0.1:{port}/0", "needs a password"),
        (lambda port: "redis://127.0.0.1:1/0", "cannot reach Redis"),
        (lambda port: "notaurl", "expected a URL that starts with one of redis://"),
        (
            lambda port: "redis://127.0.0.1:notaport/0",
            "expected a URL with a valid port",
        ),
    ],
    ids=[
        "wrong-password",
        "missing-password",
        "unreachable",
        "not-a-url",
        "bad-port",
    ],
)
def test_status_names_url_and_fix(
    password_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    url_of: Callable[[int | None], str],
    expected: str,
) -> None:
    code, output = status_output(url_of(password_server.port), monkeypatch)
    assert code == 1
    assert expected in output
    assert "Traceback" not in output
    assert "wrong-pw" not in output


def test_startup_fails_when_configured_server_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SENTINEL__QUEUE__URL", "redis://:pw@127.0.0.1:1/0")
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    host, config = bootstrap()
    agent = Agent(config, host, tmp_path)
    with pytest.raises(QueueConnectionError, match=r"127\.0\.0\.1:1/0") as caught:
        plugin.sentinel_startup(agent)
    assert ":pw@" not in str(caught.value)
    plugin.sentinel_shutdown(agent)
    assert not agent.has_service("queue")


class RunningAgent:
    """``sentinel run`` in a process group of its own, as a terminal starts it."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.cwd = tmp_path
        agent_env = {**env, "SENTINEL__QUEUE__WORKERS": "1", "SENTINEL__WEB__PORT": "0"}
        agent_env.pop("SENTINEL__QUEUE__URL", None)
        agent_env.pop("SENTINEL__QUEUE__NAME", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sentinel.core", "run"],
            cwd=tmp_path,
            env=agent_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        config = tmp_path / ".sentinel" / "redis" / "valkey.conf"
        wait_for(config.exists)
        port = int(config.read_text().split()[1])
        self.server_pid: int | None = None
        self.queue = Queue.from_url(f"redis://127.0.0.1:{port}/0")
        wait_for(self._ready)

    def _ready(self) -> bool:
        try:
            self.server_pid = int(self.queue.client.info("server")["process_id"])
        except redis.ConnectionError:
            return False
        return True

    def ctrl_c(self) -> None:
        """Send SIGINT to the whole foreground group, as the terminal does."""
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self) -> str:
        output, _ = self.process.communicate(timeout=60)
        self.queue.client.close()
        return output


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def run_sentinel(
    cwd: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentinel.core", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_commands_find_running_agent_server(
    tmp_path: Path, make_worker_env: Callable[[str], dict[str, str]]
) -> None:
    env = make_worker_env("unused")
    env.pop("SENTINEL__QUEUE__URL", None)
    env.pop("SENTINEL__QUEUE__NAME", None)
    agent = RunningAgent(tmp_path, env)
    server_file = tmp_path / ".sentinel" / "redis" / "server.json"
    try:
        agent.queue.enqueue("qtest.echo", {"n": 1})
        status = run_sentinel(tmp_path, env, "queue", "status", "--json")
        info = run_sentinel(tmp_path, env, "redis", "info", "--json")
        recorded = json.loads(server_file.read_text(encoding="utf-8"))
        agent.ctrl_c()
    finally:
        agent.finish()
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["queue"] == "default"
    assert sum(report["counts"].values()) >= 1
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["url"] == recorded["url"]
    assert recorded["pid"] == agent.server_pid
    assert not server_file.exists()


def test_ctrl_c_lets_running_job_finish(
    tmp_path: Path, make_worker_env: Callable[[str], dict[str, str]]
) -> None:
    log = tmp_path / "runs.log"
    agent = RunningAgent(tmp_path, make_worker_env("unused"))
    try:
        job_id = agent.queue.enqueue("qtest.record", {"log": str(log), "sleep": 1.5})
        wait_for(lambda: bool(lines(log)))
        agent.ctrl_c()
    finally:
        output = agent.finish()
    assert "lost its Redis connection" not in output, output
    assert [line.split()[0] for line in lines(log)] == ["start", "end"]
    with EmbeddedRedis(tmp_path / ".sentinel" / "redis") as server:
        record = Queue.from_url(server.url).get(job_id)
    assert record is not None
    assert record["state"] == "done"
    assert record["attempts"] == 1


def test_second_ctrl_c_stops_workers_at_once(
    tmp_path: Path, make_worker_env: Callable[[str], dict[str, str]]
) -> None:
    log = tmp_path / "runs.log"
    agent = RunningAgent(tmp_path, make_worker_env("unused"))
    try:
        agent.queue.enqueue("qtest.record", {"log": str(log), "sleep": 60})
        wait_for(lambda: bool(lines(log)))
        worker_pid = int(lines(log)[0].split()[2])
        agent.ctrl_c()
        time.sleep(0.5)
        agent.ctrl_c()
    finally:
        output = agent.finish()
    assert "stopping the workers at once" in output, output
    wait_for(lambda: not alive(worker_pid), timeout=10)
    assert agent.server_pid is not None
    wait_for(lambda: not alive(agent.server_pid or 0), timeout=10)
    assert "ConnectionError" not in output
