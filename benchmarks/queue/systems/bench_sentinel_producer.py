"""sentinel-queue with its background producer: ``Queue.producer()``."""

from __future__ import annotations

from bench_sentinel import Producer as SingleProducer
from bench_sentinel import jobs_at_a_time, worker_command, worker_env

__all__ = ["Producer", "jobs_at_a_time", "worker_command", "worker_env"]


class Producer(SingleProducer):
    """Enqueue one job per call to a ``sentinel.queue.Producer``.

    Each call returns at once; the producer's thread sends the jobs that
    collected during its linger (2 ms by default) in one script call. The
    timed run includes the final flush, so every job is in Redis.
    """

    def send(self, task: str, count: int) -> None:
        name = f"bench.{task}"
        with self.queue.producer() as producer:
            for _ in range(count):
                producer.enqueue(name, {})
