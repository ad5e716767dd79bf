"""sentinel-queue with its background producer and ``exact_attempts`` off."""

from __future__ import annotations

from bench_sentinel import jobs_at_a_time, worker_command
from bench_sentinel_batched import worker_env
from bench_sentinel_producer import Producer

__all__ = ["Producer", "jobs_at_a_time", "worker_command", "worker_env"]
