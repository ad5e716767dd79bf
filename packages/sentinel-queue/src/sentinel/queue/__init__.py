"""sentinel-queue: Redis job queue, workers and the embedded Redis-compatible server."""

from __future__ import annotations

from sentinel.queue._errors import (
    JobEncodingError,
    QueueConfigError,
    QueueError,
    ServerStartError,
)
from sentinel.queue._job import Job
from sentinel.queue._keys import QueueKeys
from sentinel.queue._queue import Queue, connect
from sentinel.queue._server import EmbeddedRedis, find_free_port

__all__ = [
    "EmbeddedRedis",
    "Job",
    "JobEncodingError",
    "Queue",
    "QueueConfigError",
    "QueueError",
    "QueueKeys",
    "ServerStartError",
    "connect",
    "find_free_port",
]
