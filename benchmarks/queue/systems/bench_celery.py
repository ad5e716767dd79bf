"""The Celery side of the queue benchmark, with the Redis transport."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench_done import SLEEP_SECONDS, record, requested_concurrency, url
from celery import Celery

app = Celery("bench_celery", broker=url())
app.conf.broker_connection_retry_on_startup = True


@app.task(name="bench.noop")
def noop() -> None:
    """Do nothing but count the job."""
    record()


@app.task(name="bench.sleep")
def sleep() -> None:
    """Wait 1 ms, then count the job."""
    time.sleep(SLEEP_SECONDS)
    record()


TASKS = {"noop": noop, "sleep": sleep}


def worker_command(index: int, url: str) -> list[str]:
    """Return the command line of one worker process.

    One job at a time uses the solo pool, which runs jobs in the worker's own
    process; more use the thread pool, so there are still two processes.
    """
    concurrency = jobs_at_a_time(requested_concurrency())
    pool = ["--pool", "solo"]
    if concurrency > 1:
        pool = ["--pool", "threads", "--concurrency", str(concurrency)]
    return [
        str(Path(sys.executable).with_name("celery")),
        "--app",
        "bench_celery",
        "worker",
        *pool,
        "--loglevel",
        "WARNING",
        "--hostname",
        f"bench{index}@%h",
    ]


def worker_env(url: str) -> dict[str, str]:
    """Return no extra variables: the module reads the benchmark URL."""
    return {}


def jobs_at_a_time(requested: int | None) -> int:
    """Return how many jobs one worker process runs at a time."""
    return requested or 1


class Producer:
    """Enqueue jobs with Task.delay, one call per job."""

    def __init__(self, url: str) -> None:
        self.app = app

    def send(self, task: str, count: int) -> None:
        function = TASKS[task]
        for _ in range(count):
            function.delay()

    def close(self) -> None:
        self.app.close()
