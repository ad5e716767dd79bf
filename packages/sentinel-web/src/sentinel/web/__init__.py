"""sentinel-web: the JSON API, live stream and dashboard of a sentinel agent."""

from __future__ import annotations

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
