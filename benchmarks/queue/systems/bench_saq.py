"""The SAQ side of the queue benchmark: async tasks, producer and worker."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from bench_done import SLEEP_SECONDS, record, requested_concurrency, url
from saq import Queue

QUEUE = "bench"


async def noop(ctx: dict[str, Any]) -> None:
    """Do nothing but count the job."""
    record()


async def sleep(ctx: dict[str, Any]) -> None:
    """Wait 1 ms, then count the job."""
    await asyncio.sleep(SLEEP_SECONDS)
    record()


# SAQ's worker command reads this mapping: defaults apart from concurrency.
settings: dict[str, Any] = {
    "queue": Queue.from_url(url(), name=QUEUE),
    "functions": [noop, sleep],
    "concurrency": requested_concurrency() or 1,
}


def worker_command(index: int, url: str) -> list[str]:
    """Return the command line of one worker process."""
    return [str(Path(sys.executable).with_name("saq")), "bench_saq.settings"]


def worker_env(url: str) -> dict[str, str]:
    """Return no extra variables: the module reads the benchmark URL."""
    return {}


def jobs_at_a_time(requested: int | None) -> int:
    """Return how many jobs one worker process runs at a time."""
    return requested or 1


class Producer:
    """Enqueue jobs with Queue.enqueue, one call per job."""

    def __init__(self, url: str) -> None:
        self.runner = asyncio.Runner()
        self.queue = Queue.from_url(url, name=QUEUE)
        self.runner.run(self.queue.connect())

    def send(self, task: str, count: int) -> None:
        self.runner.run(self._send(task, count))

    async def _send(self, task: str, count: int) -> None:
        for _ in range(count):
            await self.queue.enqueue(task)

    def close(self) -> None:
        self.runner.run(self.queue.disconnect())
        self.runner.close()
