"""The Huey side of the queue benchmark, with RedisHuey."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench_done import SLEEP_SECONDS, record, requested_concurrency, url
from huey import RedisHuey

huey = RedisHuey("bench", url=url())


@huey.task()
def noop() -> None:
    """Do nothing but count the job."""
    record()


@huey.task()
def sleep() -> None:
    """Wait 1 ms, then count the job."""
    time.sleep(SLEEP_SECONDS)
    record()


TASKS = {"noop": noop, "sleep": sleep}


def worker_command(index: int, url: str) -> list[str]:
    """Return the command line of one consumer process with worker threads."""
    return [
        str(Path(sys.executable).with_name("huey_consumer")),
        "bench_huey.huey",
        "--workers",
        str(jobs_at_a_time(requested_concurrency())),
        "--worker-type",
        "thread",
        "--quiet",
    ]


def worker_env(url: str) -> dict[str, str]:
    """Return no extra variables: the module reads the benchmark URL."""
    return {}


def jobs_at_a_time(requested: int | None) -> int:
    """Return how many jobs one worker process runs at a time."""
    return requested or 1


class Producer:
    """Enqueue jobs by calling the task, one call per job."""

    def __init__(self, url: str) -> None:
        self.huey = huey

    def send(self, task: str, count: int) -> None:
        function = TASKS[task]
        for _ in range(count):
            function()

    def close(self) -> None:
        self.huey.storage.conn.close()
