"""The Celery side of the queue benchmark, with the Redis transport."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench_done import SLEEP_SECONDS, record, url
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
    """Return the command line of one worker process with the solo pool."""
    return [
        str(Path(sys.executable).with_name("celery")),
        "--app",
        "bench_celery",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "WARNING",
        "--hostname",
        f"bench{index}@%h",
    ]


def worker_env(url: str) -> dict[str, str]:
    """Return no extra variables: the module reads the benchmark URL."""
    return {}


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
