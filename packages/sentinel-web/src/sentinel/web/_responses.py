"""JSON responses with secrets removed, and the security headers of every response."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from sentinel.web._keys import REDACTOR_KEY

# Only this origin's own scripts and styles; no framing, no plugins, no forms
# posting elsewhere. The dashboard needs nothing more.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'; object-src 'none'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def dumps(request: web.Request, data: Any) -> str:
    """Serialise ``data`` to JSON and remove the configured secrets from it.

    Values that JSON has no type for (paths, datetimes) are sent as strings.
    """
    text = json.dumps(data, default=str, ensure_ascii=False)
    return request.app[REDACTOR_KEY].text(text)


def json_response(request: web.Request, data: Any, status: int = 200) -> web.Response:
    """Build a JSON response whose body holds no configured secret."""
    return web.Response(
        text=dumps(request, data),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def error_response(request: web.Request, message: str, status: int) -> web.Response:
    """Build a JSON error response of the form ``{"error": message}``."""
    return json_response(request, {"error": message}, status=status)


async def add_security_headers(
    request: web.Request, response: web.StreamResponse
) -> None:
    """Set the security headers on a response before it is sent."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
