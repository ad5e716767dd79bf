"""Exceptions raised by sentinel-web, all under one root class."""

from __future__ import annotations

from sentinel.core import SentinelError


class WebError(SentinelError):
    """Root of every error that sentinel-web raises on purpose."""


class WebServerError(WebError):
    """The dashboard server failed to start or stopped unexpectedly."""
