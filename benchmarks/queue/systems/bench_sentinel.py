"""The sentinel-queue side of the queue benchmark: tasks, producer and worker."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from bench_done import SLEEP_SECONDS, record, requested_concurrency

from sentinel.core import QUEUE_TASK, TaskContext, TypeSpec, hookimpl
from sentinel.queue import Queue

QUEUE = "bench"
PLUGIN = "bench=bench_sentinel"


@hookimpl
def sentinel_types() -> list[TypeSpec]:
    """Register the two benchmark tasks."""
    return [
        TypeSpec(QUEUE_TASK, "bench.noop", "bench_sentinel:noop"),
        TypeSpec(QUEUE_TASK, "bench.sleep", "bench_sentinel:sleep"),
    ]


def noop(ctx: TaskContext, payload: dict[str, Any]) -> None:
    """Do nothing but count the job."""
    record()


def sleep(ctx: TaskContext, payload: dict[str, Any]) -> None:
    """Wait 1 ms, then count the job."""
    time.sleep(SLEEP_SECONDS)
    record()


def worker_command(index: int, url: str) -> list[str]:
    """Return the command line of one worker process with its worker threads."""
    return [
        sys.executable,
        "-m",
        "sentinel.core",
        "queue",
        "worker",
        "--workers",
        "1",
        "--threads",
        str(jobs_at_a_time(requested_concurrency())),
    ]


def worker_env(url: str) -> dict[str, str]:
    """Point the worker at the benchmark server and load the task plugin."""
    return {
        "SENTINEL__QUEUE__URL": url,
        "SENTINEL__QUEUE__NAME": QUEUE,
        "SENTINEL_EXTRA_PLUGINS": PLUGIN,
    }


def jobs_at_a_time(requested: int | None) -> int:
    """Return how many jobs one worker process runs at a time."""
    return requested or 1


class Producer:
    """Enqueue jobs one call at a time through the public Queue API."""

    def __init__(self, url: str) -> None:
        os.environ.pop("SENTINEL_CONFIG", None)
        self.queue = Queue.from_url(url, QUEUE)

    def send(self, task: str, count: int) -> None:
        name = f"bench.{task}"
        for _ in range(count):
            self.queue.enqueue(name, {})

    def close(self) -> None:
        self.queue.client.close()
