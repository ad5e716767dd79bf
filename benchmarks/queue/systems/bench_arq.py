"""The arq side of the queue benchmark: async tasks, producer and worker."""

from __future__ import annotations

import asyncio
import sys
from typing import Any, ClassVar

from arq import create_pool, run_worker
from arq.connections import ArqRedis, RedisSettings
from bench_done import SLEEP_SECONDS, record, requested_concurrency, url


async def noop(ctx: dict[str, Any]) -> None:
    """Do nothing but count the job."""
    record()


async def sleep(ctx: dict[str, Any]) -> None:
    """Wait 1 ms, then count the job."""
    await asyncio.sleep(SLEEP_SECONDS)
    record()


# arq fills its free job slots once per poll (every 0.5 s by default), so
# with max_jobs=1 each process starts at most two jobs a second. Unless
# --concurrency says otherwise, the benchmark keeps arq's default of 10.
ARQ_DEFAULT_MAX_JOBS = 10


class WorkerSettings:
    """arq's worker settings: the defaults, with the benchmark's tasks."""

    functions: ClassVar[list[Any]] = [noop, sleep]
    max_jobs = requested_concurrency() or ARQ_DEFAULT_MAX_JOBS


def worker_command(index: int, url: str) -> list[str]:
    """Return the command line of one worker process."""
    return [sys.executable, "-m", "bench_arq"]


def worker_env(url: str) -> dict[str, str]:
    """Return no extra variables: the worker reads the benchmark URL."""
    return {}


def jobs_at_a_time(requested: int | None) -> int:
    """Return arq's max_jobs: the requested number, or arq's default."""
    return requested or ARQ_DEFAULT_MAX_JOBS


class Producer:
    """Enqueue jobs with ArqRedis.enqueue_job, one call per job."""

    def __init__(self, url: str) -> None:
        self.runner = asyncio.Runner()
        self.pool: ArqRedis = self.runner.run(create_pool(RedisSettings.from_dsn(url)))

    def send(self, task: str, count: int) -> None:
        self.runner.run(self._send(task, count))

    async def _send(self, task: str, count: int) -> None:
        for _ in range(count):
            await self.pool.enqueue_job(task)

    def close(self) -> None:
        self.runner.run(self.pool.aclose())
        self.runner.close()


if __name__ == "__main__":
    # run_worker leaves logging unconfigured, so no line is printed per job.
    run_worker(WorkerSettings, redis_settings=RedisSettings.from_dsn(url()))
