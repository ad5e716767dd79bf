"""sentinel-queue with ``queue.exact_attempts`` off: whole batches marked started."""

from __future__ import annotations

from bench_sentinel import Producer, jobs_at_a_time, worker_command
from bench_sentinel import worker_env as exact_worker_env

__all__ = ["Producer", "jobs_at_a_time", "worker_command", "worker_env"]


def worker_env(url: str) -> dict[str, str]:
    """Point the worker at the benchmark server with batched attempt marks."""
    return {**exact_worker_env(url), "SENTINEL__QUEUE__EXACT_ATTEMPTS": "false"}
