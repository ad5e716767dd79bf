"""sentinel-queue: Redis job queue, workers and the embedded Redis-compatible server.

Names are imported on first access, so that importing ``sentinel.queue.plugin``
(which loads this package first) stays free of redis and the queue code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentinel.queue._aio import AsyncJobContext, AsyncQueue, AsyncWorker
    from sentinel.queue._errors import (
        DataDirInUseError,
        EnqueueError,
        JobCancelledError,
        JobEncodingError,
        JobTimeoutError,
        QueueConfigError,
        QueueConnectionError,
        QueueError,
        RecordError,
        ServerNotFoundError,
        ServerStartError,
    )
    from sentinel.queue._job import Job
    from sentinel.queue._keys import QueueKeys
    from sentinel.queue._model import RedisModel
    from sentinel.queue._pool import WorkerPool
    from sentinel.queue._producer import Producer
    from sentinel.queue._queue import Batch, Queue, connect
    from sentinel.queue._server import (
        EmbeddedRedis,
        find_free_port,
        find_running_server,
    )
    from sentinel.queue._worker import JobContext, Worker

_MODULES = {
    "AsyncJobContext": "_aio",
    "AsyncQueue": "_aio",
    "AsyncWorker": "_aio",
    "Batch": "_queue",
    "DataDirInUseError": "_errors",
    "EmbeddedRedis": "_server",
    "EnqueueError": "_errors",
    "Job": "_job",
    "JobContext": "_worker",
    "JobCancelledError": "_errors",
    "JobEncodingError": "_errors",
    "JobTimeoutError": "_errors",
    "Queue": "_queue",
    "QueueConfigError": "_errors",
    "QueueConnectionError": "_errors",
    "Producer": "_producer",
    "QueueError": "_errors",
    "QueueKeys": "_keys",
    "RecordError": "_errors",
    "RedisModel": "_model",
    "ServerNotFoundError": "_errors",
    "ServerStartError": "_errors",
    "Worker": "_worker",
    "WorkerPool": "_pool",
    "connect": "_queue",
    "find_free_port": "_server",
    "find_running_server": "_server",
}

__all__ = [
    "AsyncJobContext",
    "AsyncQueue",
    "AsyncWorker",
    "Batch",
    "DataDirInUseError",
    "EmbeddedRedis",
    "EnqueueError",
    "Job",
    "JobCancelledError",
    "JobContext",
    "JobEncodingError",
    "JobTimeoutError",
    "Producer",
    "Queue",
    "QueueConfigError",
    "QueueConnectionError",
    "QueueError",
    "QueueKeys",
    "RecordError",
    "RedisModel",
    "ServerNotFoundError",
    "ServerStartError",
    "Worker",
    "WorkerPool",
    "connect",
    "find_free_port",
    "find_running_server",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'sentinel.queue' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sentinel.queue.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
