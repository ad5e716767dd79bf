"""Tests of the app's static files, security headers and plugin route sets."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from sentinel.core import Agent
from sentinel.web import create_app, load_plugin_routes
from sentinel.web._responses import CONTENT_SECURITY_POLICY

Client = TestClient[Any, Any]

pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest.mark.parametrize(
    ("path", "content_type", "fragment"),
    [
        ("/", "text/html", 'data-testid="queue-done"'),
        ("/static/app.js", "text/javascript", "new EventSource"),
        ("/static/app.css", "text/css", ".counts"),
    ],
    ids=["index", "script", "style"],
)
async def test_static_file_served(
    client: Client, path: str, content_type: str, fragment: str
) -> None:
    response = await client.get(path)

    assert response.status == 200
    assert response.content_type == content_type
    assert fragment in await response.text()


@pytest.mark.parametrize(
    "path",
    ["/static/index.html", "/static/../plugin.py", "/static/", "/plugin.py"],
    ids=["unlisted-file", "parent-folder", "folder", "package-module"],
)
async def test_static_only_listed_files(client: Client, path: str) -> None:
    response = await client.get(path)

    assert response.status == 404


@pytest.mark.parametrize(
    "path",
    ["/", "/static/app.js", "/api/status", "/api/jobs?state=nope", "/missing"],
    ids=["index", "script", "api", "api-error", "not-found"],
)
async def test_security_headers(client: Client, path: str) -> None:
    response = await client.get(path)

    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_api_responses_not_cached(client: Client) -> None:
    response = await client.get("/api/status")

    assert response.headers["Cache-Control"] == "no-store"


async def test_dashboard_has_no_external_urls(client: Client) -> None:
    for path in ("/", "/static/app.js", "/static/app.css"):
        text = await (await client.get(path)).text()
        assert "http://" not in text, path
        assert "https://" not in text, path
        assert "//cdn" not in text, path


async def test_dashboard_script_never_writes_html(client: Client) -> None:
    text = await (await client.get("/static/app.js")).text()

    assert "innerHTML" not in text
    assert "outerHTML" not in text
    assert "insertAdjacentHTML" not in text
    assert "document.write" not in text


async def test_plugin_route_set_registered(client: Client, agent: Agent) -> None:
    response = await client.get("/api/hello")

    assert response.status == 200
    assert await response.json() == {"hello": agent.workdir.name}
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_broken_route_set_is_logged_and_skipped(
    bare_agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="sentinel.web"):
        app = create_app(bare_agent)

    failures = [r for r in caplog.records if "route set 'broken'" in r.message]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert "broken on purpose" in str(failures[0].exc_info[1])
    paths = {resource.canonical for resource in app.router.resources()}
    assert "/api/hello" in paths


async def test_load_plugin_routes_returns_loaded_names(bare_agent: Agent) -> None:
    from aiohttp import web

    app = web.Application()

    assert load_plugin_routes(app, bare_agent) == ["hello"]
