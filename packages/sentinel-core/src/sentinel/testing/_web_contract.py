"""The contract of a web route set (kind ``web.routes``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pytest

from sentinel.core import WEB_ROUTES, Agent, bootstrap
from sentinel.testing._contract_base import TypeContract

if TYPE_CHECKING:
    from aiohttp import web


class WebRoutesContract(TypeContract):
    """Checks for a route set: it registers routes that never answer 500.

    The target is a function ``register(app, agent)`` that adds routes to an
    aiohttp application. ``paths`` lists GET paths that must answer on an
    agent that has not started: with a status below 500, or with 503 when a
    service the route reads is not running. Override the ``route_agent``
    fixture to give the routes a configured agent.
    """

    kind: ClassVar[str] = WEB_ROUTES
    paths: ClassVar[Sequence[str]] = ()

    @pytest.fixture
    def route_agent(self, tmp_path: Path) -> Agent:
        """An agent, not started, with every installed plugin and no config file."""
        config_path = tmp_path / "routes-sentinel.yaml"
        config_path.write_text("default: {}\n", encoding="utf-8")
        host, config = bootstrap(config_path=config_path, environ={})
        return Agent(config, host, tmp_path)

    def _app(self, agent: Agent) -> web.Application:
        pytest.importorskip("aiohttp", reason="web route sets need aiohttp")
        from aiohttp import web

        app = web.Application()
        self.implementation()(app, agent)
        return app

    def test_registers_routes(self, route_agent: Agent) -> None:
        app = self._app(route_agent)
        assert len(app.router.routes()) > 0

    def test_registers_into_each_new_app(self, route_agent: Agent) -> None:
        first = self._app(route_agent)
        second = self._app(route_agent)
        assert len(first.router.routes()) == len(second.router.routes())

    def test_paths_answer_without_server_error(self, route_agent: Agent) -> None:
        if not self.paths:
            pytest.skip("set paths to the GET paths the route set serves")
        statuses = asyncio.run(self._get_all(self._app(route_agent)))
        for path, status in statuses.items():
            assert status < 500 or status == 503, f"GET {path} answered {status}"

    async def _get_all(self, app: web.Application) -> dict[str, int]:
        from aiohttp.test_utils import TestClient, TestServer

        statuses = {}
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for path in self.paths:
                response = await client.get(path)
                await response.read()
                statuses[path] = response.status
        return statuses
