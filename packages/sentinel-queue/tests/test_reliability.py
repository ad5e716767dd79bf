"""The reliability suite: killed workers, a restarted server, leases and signals.

``SENTINEL_QUEUE_CHAOS_JOBS`` sets the size of the kill test (the default
keeps the suite short; ``make chaos`` runs a long version).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from sentinel.queue import EmbeddedRedis, Queue

CHAOS_JOBS = int(os.environ.get("SENTINEL_QUEUE_CHAOS_JOBS", "2000"))
CHAOS_WORKERS = 3


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def starts(log: Path) -> Counter[str]:
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    return Counter(
        line.split()[1] for line in text.splitlines() if line.startswith("start")
    )


class Pool:
    """Worker processes that the tests start, kill and signal."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.command, self.env, self.cwd = command, env, cwd
        self.processes: list[subprocess.Popen[bytes]] = []
        self.output = (cwd / "workers.log").open("ab")

    def start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=self.output,
        )
        self.processes.append(process)
        return process

    def running(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
        self.output.close()


@pytest.fixture
def pool(
    server: EmbeddedRedis,
    tmp_path: Path,
    worker_command: list[str],
    make_worker_env: Callable[..., dict[str, str]],
) -> Iterator[Pool]:
    started = Pool(worker_command, make_worker_env(server.url), tmp_path)
    yield started
    started.stop()


def test_chaos_kills_and_server_restart_lose_nothing(
    server: EmbeddedRedis, queue: Queue, pool: Pool, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    ids = [
        queue.enqueue("qtest.record", {"log": str(log), "sleep": 0.006}, max_retries=50)
        for _ in range(CHAOS_JOBS)
    ]
    for _ in range(CHAOS_WORKERS):
        pool.start()
    kills = 0
    restarted = False
    rng = random.Random(7)
    while queue.counts()["done"] < CHAOS_JOBS:
        time.sleep(rng.uniform(1.0, 2.0))
        running = pool.running()
        if running and queue.counts()["done"] < CHAOS_JOBS:
            rng.choice(running).kill()
            kills += 1
        while len(pool.running()) < CHAOS_WORKERS:
            pool.start()
        if not restarted and queue.counts()["done"] > CHAOS_JOBS // 3:
            server.kill()
            server.start()
            restarted = True
    assert restarted
    assert kills > 0
    runs = starts(log)
    records = [queue.get(job_id) for job_id in ids]
    assert all(r is not None and r["state"] == "done" for r in records)
    assert set(runs) == set(ids)
    duplicates = sum(runs.values()) - len(ids)
    assert duplicates <= kills
    # An attempt is counted when a worker marks a job started, just before
    # the task runs: jobs that a killed worker had leased in a batch but not
    # started spent none. A kill (or the restart, which loses a reply)
    # landing between the mark and the task's first line spends one attempt
    # without a run, so at most one extra attempt per disruption.
    extra = {}
    for record in records:
        assert record is not None
        assert record["attempts"] >= runs[record["id"]]
        if record["attempts"] != runs[record["id"]]:
            extra[record["id"]] = record["attempts"] - runs[record["id"]]
    assert all(count == 1 for count in extra.values()), extra
    assert len(extra) <= kills + 1, (extra, kills)
    assert queue.counts()["failed"] == 0


def test_delayed_job_longer_than_lease_runs_once(
    queue: Queue, pool: Pool, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    job_id = queue.enqueue("qtest.record", {"log": str(log)}, delay=2.5)
    pool.start()
    pool.start()
    wait_for(lambda: (queue.get(job_id) or {}).get("state") == "done")
    time.sleep(1.5)
    assert starts(log) == Counter({job_id: 1})


def test_job_twice_the_lease_runs_once(
    queue: Queue, pool: Pool, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    job_id = queue.enqueue("qtest.record", {"log": str(log), "sleep": 2.2})
    pool.start()
    pool.start()
    wait_for(lambda: (queue.get(job_id) or {}).get("state") == "done")
    record = queue.get(job_id)
    assert record is not None
    assert record["attempts"] == 1
    assert starts(log) == Counter({job_id: 1})


def test_signals_while_fetching_lose_no_job(
    queue: Queue, pool: Pool, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    ids = [queue.enqueue("qtest.record", {"log": str(log)}) for _ in range(400)]
    rng = random.Random(3)
    for _ in range(4):
        process = pool.start()
        time.sleep(rng.uniform(0.8, 1.6))
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    pool.start()
    wait_for(lambda: queue.counts()["done"] == len(ids))
    records = [queue.get(job_id) for job_id in ids]
    assert all(r is not None and r["state"] == "done" for r in records)
    # A graceful stop hands back what it had not started: nothing runs twice.
    assert starts(log) == Counter(dict.fromkeys(ids, 1))


def test_killed_connection_resumes_and_logs(
    queue: Queue, client: redis.Redis, pool: Pool, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    pool.start()
    first = queue.enqueue("qtest.record", {"log": str(log)})
    wait_for(lambda: (queue.get(first) or {}).get("state") == "done")
    client.client_kill_filter(_type="normal", skipme=True)
    second = queue.enqueue("qtest.record", {"log": str(log)})
    wait_for(lambda: (queue.get(second) or {}).get("state") == "done")
    client.client_kill_filter(_type="normal", skipme=True)
    third = queue.enqueue("qtest.record", {"log": str(log)})
    wait_for(lambda: (queue.get(third) or {}).get("state") == "done")
    output = (tmp_path / "workers.log").read_text(encoding="utf-8")
    assert "lost its Redis connection" in output
    assert "reconnected to Redis; consuming jobs again" in output
    assert starts(log) == Counter({first: 1, second: 1, third: 1})


def test_four_attempts_when_one_is_killed(
    queue: Queue, pool: Pool, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    job_id = queue.enqueue(
        "qtest.flaky", {"log": str(log), "hang_on": 2}, max_retries=3
    )
    victim = pool.start()
    wait_for(lambda: sum(starts(log).values()) == 2)
    victim.kill()
    pool.start()
    wait_for(lambda: (queue.get(job_id) or {}).get("state") == "failed")
    record = queue.get(job_id)
    assert record is not None
    assert record["attempts"] == 4
    assert starts(log) == Counter({job_id: 4})
