"""sentinel-web: the JSON API, live stream and dashboard of a sentinel agent."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentinel.web._app import create_app, load_plugin_routes
    from sentinel.web._errors import WebError, WebServerError
    from sentinel.web._redact import Redactor
    from sentinel.web._server import WebServer
    from sentinel.web._status import StatusReader

__all__ = [
    "Redactor",
    "StatusReader",
    "WebError",
    "WebServer",
    "WebServerError",
    "create_app",
    "load_plugin_routes",
]

# The names import on first use, because the host imports sentinel.web.plugin
# (and so this package) for every command, and aiohttp is slow to import.
_MODULES = {
    "Redactor": "sentinel.web._redact",
    "StatusReader": "sentinel.web._status",
    "WebError": "sentinel.web._errors",
    "WebServer": "sentinel.web._server",
    "WebServerError": "sentinel.web._errors",
    "create_app": "sentinel.web._app",
    "load_plugin_routes": "sentinel.web._app",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'sentinel.web' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
