"""sentinel-log: Slack and Twilio SMS log handlers that never block the caller."""

from __future__ import annotations

from sentinel.log._errors import HandlerConfigError, LogHandlerError
from sentinel.log._flood import FloodControl
from sentinel.log._handler import BackgroundHandler
from sentinel.log._redact import Redactor
from sentinel.log._slack import SlackHandler
from sentinel.log._twilio import TwilioSmsHandler

__all__ = [
    "BackgroundHandler",
    "FloodControl",
    "HandlerConfigError",
    "LogHandlerError",
    "Redactor",
    "SlackHandler",
    "TwilioSmsHandler",
]
