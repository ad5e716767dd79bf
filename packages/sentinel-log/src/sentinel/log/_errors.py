"""Exceptions raised by sentinel-log, all under one root class."""

from __future__ import annotations

from sentinel.core import SentinelError


class LogHandlerError(SentinelError):
    """Root of every error that sentinel-log raises on purpose."""


class HandlerConfigError(LogHandlerError, ValueError):
    """A log handler was given an invalid or incomplete setting."""
