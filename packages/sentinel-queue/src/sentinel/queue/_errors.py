"""Exceptions raised by sentinel-queue, all under one root class."""

from __future__ import annotations

from sentinel.core import SentinelError


class QueueError(SentinelError):
    """Root of every error that sentinel-queue raises on purpose."""


class ServerStartError(QueueError):
    """The embedded Redis-compatible server failed to start or stop."""


class DataDirInUseError(ServerStartError):
    """Another process holds the lock of the embedded server's data folder."""


class JobEncodingError(QueueError, ValueError):
    """A payload or result cannot be stored as JSON."""


class QueueConfigError(QueueError):
    """The queue section of the config is missing a value the command needs."""


class QueueConnectionError(QueueError):
    """The Redis server of the queue cannot be reached or refuses the client."""


class ServerNotFoundError(QueueConnectionError):
    """``queue.url`` is null and no running embedded server was found to use."""


class JobTimeoutError(QueueError):
    """A job ran longer than its timeout and was interrupted."""


class JobCancelledError(QueueError):
    """A running job was cancelled on request and interrupted."""


class RecordError(QueueError, ValueError):
    """A model cannot be stored as, or loaded from, a Redis record."""


class EnqueueError(QueueError):
    """Jobs handed to a :class:`sentinel.queue.Producer` could not be stored.

    ``job_ids`` lists the ids that :meth:`Producer.enqueue` returned for
    them; none of these jobs is in the queue.
    """

    def __init__(self, message: str, job_ids: list[str]) -> None:
        super().__init__(message)
        self.job_ids = job_ids
