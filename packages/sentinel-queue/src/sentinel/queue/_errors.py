"""Exceptions raised by sentinel-queue, all under one root class."""

from __future__ import annotations

from sentinel.core import SentinelError


class QueueError(SentinelError):
    """Root of every error that sentinel-queue raises on purpose."""


class ServerStartError(QueueError):
    """The embedded Redis-compatible server failed to start or stop."""


class JobEncodingError(QueueError, ValueError):
    """A payload or result cannot be stored as JSON."""


class QueueConfigError(QueueError):
    """The queue section of the config is missing a value the command needs."""
