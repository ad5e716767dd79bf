"""sentinel-queue with a batched producer: ``Queue.enqueue_many``."""

from __future__ import annotations

from bench_sentinel import Producer as SingleProducer
from bench_sentinel import jobs_at_a_time, worker_command, worker_env

__all__ = ["Producer", "jobs_at_a_time", "worker_command", "worker_env"]


class Producer(SingleProducer):
    """Enqueue jobs with ``Queue.enqueue_many``: 500 script calls per round trip."""

    def send(self, task: str, count: int) -> None:
        self.queue.enqueue_many(f"bench.{task}", ({} for _ in range(count)))
