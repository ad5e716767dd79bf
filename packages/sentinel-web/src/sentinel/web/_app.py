"""The aiohttp application: API routes, the dashboard, and routes from plugins."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from sentinel.core import WEB_ROUTES, Agent
from sentinel.web._api import get_events, get_jobs, get_status
from sentinel.web._keys import (
    AGENT_KEY,
    HEARTBEAT_KEY,
    HUB_KEY,
    REDACTOR_KEY,
    STATUS_KEY,
)
from sentinel.web._redact import Redactor
from sentinel.web._responses import add_security_headers
from sentinel.web._status import StatusReader
from sentinel.web._stream import StatusHub, get_stream

logger = logging.getLogger(__name__)

POLL_INTERVAL = 0.5
HEARTBEAT_INTERVAL = 15.0

# The dashboard's files, by URL path, with their content types. Serving a
# fixed list keeps any other file of the package from being reachable.
STATIC_FILES = {
    "/": ("index.html", "text/html"),
    "/static/app.js": ("app.js", "text/javascript"),
    "/static/app.css": ("app.css", "text/css"),
}


def create_app(
    agent: Agent,
    *,
    poll_interval: float = POLL_INTERVAL,
    heartbeat_interval: float = HEARTBEAT_INTERVAL,
) -> web.Application:
    """Build the web application of ``agent``, with the routes that plugins add.

    ``poll_interval`` is how often, in seconds, the live stream reads the
    status; ``heartbeat_interval`` is how long, in seconds, a stream may stay
    silent before it sends a heartbeat comment.
    """
    app = web.Application()
    reader = StatusReader(agent)
    app[AGENT_KEY] = agent
    app[STATUS_KEY] = reader
    app[REDACTOR_KEY] = Redactor.from_config(agent.config)
    app[HUB_KEY] = StatusHub(reader, poll_interval)
    app[HEARTBEAT_KEY] = heartbeat_interval

    app.on_response_prepare.append(add_security_headers)
    app.cleanup_ctx.append(_run_hub)
    app.on_shutdown.append(_close_streams)

    app.router.add_get("/api/status", get_status)
    app.router.add_get("/api/jobs", get_jobs)
    app.router.add_get("/api/events", get_events)
    app.router.add_get("/api/stream", get_stream)
    for path in STATIC_FILES:
        app.router.add_get(path, get_static_file)

    load_plugin_routes(app, agent)
    return app


def load_plugin_routes(app: web.Application, agent: Agent) -> list[str]:
    """Call every registered ``web.routes`` type; return the names that loaded.

    A route set that fails to import or to register is logged and skipped so
    the dashboard still starts.
    """
    loaded = []
    for name in agent.host.registry.names(WEB_ROUTES):
        try:
            register = agent.host.registry.get(WEB_ROUTES, name)
            register(app, agent)
        except Exception:
            # NOTE: routes that the set added before it raised stay in place,
            # because aiohttp's router cannot remove a route.
            logger.exception("web route set %r: registering failed, skipped", name)
            continue
        logger.debug("web route set %r: registered", name)
        loaded.append(name)
    return loaded


async def get_static_file(request: web.Request) -> web.Response:
    """GET / and /static/...: one of the dashboard's files shipped in the package."""
    name, content_type = STATIC_FILES[request.path]
    resource = importlib.resources.files("sentinel.web").joinpath("static", name)
    body = await asyncio.to_thread(resource.read_bytes)
    return web.Response(
        body=body,
        content_type=content_type,
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


async def _run_hub(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[HUB_KEY].run(), name="sentinel-web-status")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _close_streams(app: web.Application) -> None:
    await app[HUB_KEY].close()
