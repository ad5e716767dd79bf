"""The taskiq side of the queue benchmark, on taskiq-redis's list broker."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bench_done import SLEEP_SECONDS, record, requested_concurrency, url
from taskiq_redis import ListQueueBroker

broker = ListQueueBroker(url=url(), queue_name="bench")


@broker.task(task_name="bench.noop")
async def noop() -> None:
    """Do nothing but count the job."""
    record()


@broker.task(task_name="bench.sleep")
async def sleep() -> None:
    """Wait 1 ms, then count the job."""
    await asyncio.sleep(SLEEP_SECONDS)
    record()


TASKS = {"noop": noop, "sleep": sleep}


def worker_command(index: int, url: str) -> list[str]:
    """Return the command line of one worker process."""
    return [
        str(Path(sys.executable).with_name("taskiq")),
        "worker",
        "bench_taskiq:broker",
        "--workers",
        "1",
        "--max-async-tasks",
        str(jobs_at_a_time(requested_concurrency())),
        "--log-level",
        "WARNING",
    ]


def worker_env(url: str) -> dict[str, str]:
    """Return no extra variables: the module reads the benchmark URL."""
    return {}


def jobs_at_a_time(requested: int | None) -> int:
    """Return how many jobs one worker process runs at a time."""
    return requested or 1


class Producer:
    """Enqueue jobs with AsyncTaskiqDecoratedTask.kiq, one call per job."""

    def __init__(self, url: str) -> None:
        self.runner = asyncio.Runner()
        self.runner.run(broker.startup())

    def send(self, task: str, count: int) -> None:
        self.runner.run(self._send(task, count))

    @staticmethod
    async def _send(task: str, count: int) -> None:
        function = TASKS[task]
        for _ in range(count):
            await function.kiq()

    def close(self) -> None:
        self.runner.run(broker.shutdown())
        self.runner.close()
