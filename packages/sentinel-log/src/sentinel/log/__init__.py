"""sentinel-log: Slack and Twilio SMS log handlers that send in the background."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sentinel.log._errors import HandlerConfigError, LogHandlerError
from sentinel.log._flood import FloodControl
from sentinel.log._handler import BackgroundHandler, HandlerOptions
from sentinel.log._redact import Redactor

if TYPE_CHECKING:
    from sentinel.log._slack import SlackHandler
    from sentinel.log._twilio import TwilioSmsHandler

# The SDK-backed handlers load on first access, so that importing
# sentinel.log.plugin (which imports this package first) stays free of
# slack_sdk, twilio and requests when the CLI only lists plugins.
_LAZY = {
    "SlackHandler": "sentinel.log._slack",
    "TwilioSmsHandler": "sentinel.log._twilio",
}

__all__ = [
    "BackgroundHandler",
    "FloodControl",
    "HandlerConfigError",
    "HandlerOptions",
    "LogHandlerError",
    "Redactor",
    "SlackHandler",
    "TwilioSmsHandler",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'sentinel.log' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
