"""Tests of worker processes: crashes, signals and a restarted server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sentinel.queue import EmbeddedRedis, Queue


class Workers:
    """Start worker processes and collect their output."""

    def __init__(self, url: str, cwd: Path, command: list[str], env: dict[str, str]):
        self.url = url
        self.command = command
        self.env = env
        self.cwd = cwd
        self.processes: list[subprocess.Popen[str]] = []

    def start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.communicate()


@pytest.fixture
def workers(
    server: EmbeddedRedis,
    tmp_path: Path,
    worker_command: list[str],
    make_worker_env: Callable[[str], dict[str, str]],
) -> Iterator[Workers]:
    started = Workers(server.url, tmp_path, worker_command, make_worker_env(server.url))
    yield started
    started.stop_all()


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_killed_worker_job_runs_again(
    queue: Queue, workers: Workers, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    victim = workers.start()
    slow_id = queue.enqueue("qtest.record", {"log": str(log), "sleep": 1.5})
    wait_for(lambda: any(line.startswith("start") for line in lines(log)))
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    quick_ids = [queue.enqueue("qtest.record", {"log": str(log)}) for _ in range(3)]
    workers.start()

    wait_for(lambda: queue.counts()["done"] == 4)
    starts = [line.split() for line in lines(log) if line.startswith("start")]
    slow_runs = [fields for fields in starts if fields[1] == slow_id]
    assert len(slow_runs) == 2
    assert slow_runs[0][2] == str(victim.pid)
    assert slow_runs[1][2] != str(victim.pid)
    assert slow_runs[1][3] == "2"
    for job_id in [slow_id, *quick_ids]:
        record = queue.get(job_id)
        assert record is not None
        assert record["state"] == "done"
    assert queue.counts()["failed"] == 0


def test_sigterm_finishes_running_job(
    queue: Queue, workers: Workers, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    process = workers.start()
    job_id = queue.enqueue("qtest.record", {"log": str(log), "sleep": 0.5})
    wait_for(lambda: bool(lines(log)))
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "done"
    assert "SIGTERM received; handing back unstarted jobs" in output
    assert "stopped after 1 jobs" in output


def test_second_signal_exits_at_once(
    queue: Queue, workers: Workers, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    process = workers.start()
    job_id = queue.enqueue("qtest.record", {"log": str(log), "sleep": 60})
    wait_for(lambda: bool(lines(log)))
    process.send_signal(signal.SIGTERM)
    wait_for(lambda: queue.get(job_id) is not None)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGINT, output
    assert "second SIGINT; exiting at once" in output
    record = queue.get(job_id)
    assert record is not None
    # The running job was handed back before the exit, its attempt unspent.
    assert record["state"] == "queued"
    assert record["attempts"] == 0


def test_server_restart_loses_no_job(
    server: EmbeddedRedis, queue: Queue, workers: Workers, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    process = workers.start()
    first = queue.enqueue("qtest.record", {"log": str(log)})
    wait_for(lambda: queue.counts()["done"] == 1)

    server.kill()
    server.start()
    ids = [queue.enqueue("qtest.record", {"log": str(log)}) for _ in range(5)]
    wait_for(lambda: queue.counts()["done"] == 6)
    for job_id in [first, *ids]:
        record = queue.get(job_id)
        assert record is not None
        assert record["state"] == "done"

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert "lost its Redis connection" in output
    assert "reconnected to Redis" in output


def test_server_kill_keeps_queued_jobs(server: EmbeddedRedis, queue: Queue) -> None:
    ids = [queue.enqueue("qtest.echo", {"n": n}) for n in range(20)]
    server.kill()
    server.start()
    assert queue.counts()["queued"] == 20
    for job_id in ids:
        record = queue.get(job_id)
        assert record is not None
        assert record["state"] == "queued"


def test_cli_enqueue_and_status(
    server: EmbeddedRedis,
    tmp_path: Path,
    make_worker_env: Callable[[str], dict[str, str]],
) -> None:
    base = [sys.executable, "-m", "sentinel.core.cli", "queue"]
    env = make_worker_env(server.url)
    enqueued = subprocess.run(
        [*base, "enqueue", "qtest.echo", "--payload", '{"a": 1}'],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    job_id = enqueued.stdout.strip()
    status = subprocess.run(
        [*base, "status", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(status.stdout)
    assert report["queue"] == "test"
    assert report["counts"]["queued"] == 1
    assert len(job_id) == 32

    bad = subprocess.run(
        [*base, "enqueue", "qtest.echo", "--payload", "[1]"],
        check=False,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "expected a JSON object" in bad.stderr


# Starts the worker command given as JSON in argv[1] with this process as its
# parent, prints the worker's pid, then waits to be killed.
PARENT_SCRIPT = """
import json, os, subprocess, sys, time
env = dict(os.environ, SENTINEL_QUEUE_PARENT_PID=str(os.getpid()))
child = subprocess.Popen(json.loads(sys.argv[1]), env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
print(child.pid, flush=True)
time.sleep(600)
"""


def test_orphaned_worker_stops_during_long_job(
    queue: Queue,
    workers: Workers,
    tmp_path: Path,
    worker_command: list[str],
) -> None:
    log = tmp_path / "runs.log"
    env = dict(workers.env, SENTINEL__QUEUE__SHUTDOWN_GRACE="1")
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT, json.dumps(worker_command)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    worker_pid = int(parent.stdout.readline())
    try:
        job_id = queue.enqueue("qtest.record", {"log": str(log), "sleep": 120})
        wait_for(lambda: any(line.startswith("start") for line in lines(log)))
        parent.kill()
        parent.wait()
        # The job runs for 120 s. The heartbeat detects the missing parent
        # within a beat, and the grace of 1 s ends the worker long before that.
        wait_for(lambda: not Path(f"/proc/{worker_pid}").exists(), timeout=20)
        job = queue.get(job_id)
        assert job is not None
        assert job["state"] == "queued"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdout.close()
        if Path(f"/proc/{worker_pid}").exists():
            os.kill(worker_pid, signal.SIGKILL)
