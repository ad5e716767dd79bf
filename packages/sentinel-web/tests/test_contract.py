"""The web-route contract of sentinel.testing, run on the dashboard's JSON API."""

from __future__ import annotations

from aiohttp import web

from sentinel.core import Agent
from sentinel.testing.contracts import WebRoutesContract
from sentinel.web._api import get_events, get_jobs, get_status
from sentinel.web._keys import AGENT_KEY, REDACTOR_KEY, STATUS_KEY
from sentinel.web._redact import Redactor
from sentinel.web._status import StatusReader


def register_api(app: web.Application, agent: Agent) -> None:
    """Add the JSON API as a route set, with the state its handlers read."""
    app[AGENT_KEY] = agent
    app[STATUS_KEY] = StatusReader(agent)
    app[REDACTOR_KEY] = Redactor.from_config(agent.config)
    app.router.add_get("/api/status", get_status)
    app.router.add_get("/api/jobs", get_jobs)
    app.router.add_get("/api/events", get_events)


class TestApiRoutesContract(WebRoutesContract):
    target = f"{__name__}:register_api"
    paths = ("/api/status", "/api/jobs", "/api/events")
