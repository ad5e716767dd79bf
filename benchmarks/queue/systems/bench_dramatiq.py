"""The Dramatiq side of the queue benchmark, on its Redis broker."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import dramatiq
from bench_done import SLEEP_SECONDS, record, requested_concurrency, url
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=url())
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name="bench")
def noop() -> None:
    """Do nothing but count the job."""
    record()


@dramatiq.actor(queue_name="bench")
def sleep() -> None:
    """Wait 1 ms, then count the job."""
    time.sleep(SLEEP_SECONDS)
    record()


ACTORS = {"noop": noop, "sleep": sleep}


def worker_command(index: int, url: str) -> list[str]:
    """Return the command line of one worker process."""
    return [
        str(Path(sys.executable).with_name("dramatiq")),
        "bench_dramatiq",
        "--processes",
        "1",
        "--threads",
        str(jobs_at_a_time(requested_concurrency())),
    ]


def worker_env(url: str) -> dict[str, str]:
    """Return no extra variables: the module reads the benchmark URL."""
    return {}


def jobs_at_a_time(requested: int | None) -> int:
    """Return how many jobs one worker process runs at a time."""
    return requested or 1


class Producer:
    """Enqueue jobs with Actor.send, one call per job."""

    def __init__(self, url: str) -> None:
        self.broker = broker

    def send(self, task: str, count: int) -> None:
        actor = ACTORS[task]
        for _ in range(count):
            actor.send()

    def close(self) -> None:
        self.broker.close()
