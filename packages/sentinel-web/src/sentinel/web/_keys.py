"""Typed keys of the values that the web application stores for its handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from sentinel.core import Agent
from sentinel.web._redact import Redactor
from sentinel.web._status import StatusReader

if TYPE_CHECKING:
    from sentinel.web._stream import StatusHub

AGENT_KEY = web.AppKey("agent", Agent)
# Seconds without data after which a stream sends a heartbeat comment.
HEARTBEAT_KEY = web.AppKey("heartbeat", float)
REDACTOR_KEY = web.AppKey("redactor", Redactor)
STATUS_KEY = web.AppKey("status", StatusReader)
HUB_KEY: web.AppKey[StatusHub] = web.AppKey("hub")
