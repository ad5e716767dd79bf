"""The RQ side of the queue benchmark, with SimpleWorker (no fork per job)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench_done import SLEEP_SECONDS, record
from redis import Redis
from rq import Queue

QUEUE = "bench"


def noop() -> None:
    """Do nothing but count the job."""
    record()


def sleep() -> None:
    """Wait 1 ms, then count the job."""
    time.sleep(SLEEP_SECONDS)
    record()


TASKS: dict[str, Callable[[], None]] = {"noop": noop, "sleep": sleep}


def worker_command(index: int, url: str) -> list[str]:
    """Return the command line of one worker process."""
    return [
        str(Path(sys.executable).with_name("rq")),
        "worker",
        "--worker-class",
        "rq.worker.SimpleWorker",
        "--logging_level",
        "WARNING",
        "--url",
        url,
        QUEUE,
    ]


def worker_env(url: str) -> dict[str, str]:
    """Return no extra variables: the URL is on the command line."""
    return {}


def jobs_at_a_time(requested: int | None) -> int:
    """Return how many jobs one worker process runs at a time: always one."""
    return 1


class Producer:
    """Enqueue jobs with Queue.enqueue, one call per job."""

    def __init__(self, url: str) -> None:
        self.connection = Redis.from_url(url)
        self.queue = Queue(QUEUE, connection=self.connection)

    def send(self, task: str, count: int) -> None:
        function = TASKS[task]
        for _ in range(count):
            self.queue.enqueue(function)

    def close(self) -> None:
        self.connection.close()
