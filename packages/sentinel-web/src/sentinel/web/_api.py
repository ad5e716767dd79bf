"""Handlers of the JSON API: status, recent jobs and agent events."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from sentinel.web._keys import AGENT_KEY, STATUS_KEY
from sentinel.web._responses import error_response, json_response

logger = logging.getLogger(__name__)

JOB_STATES = ("queued", "active", "delayed", "done", "failed")
MAX_JOBS = 500
DEFAULT_JOBS = 50
MAX_EVENTS = 1000
DEFAULT_EVENTS = 200


class QueryError(ValueError):
    """A query parameter is invalid; the message is sent to the client."""


def query_int(
    request: web.Request, name: str, default: int, minimum: int, maximum: int
) -> int:
    """Read an integer query parameter within ``minimum`` and ``maximum``."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= maximum:
        raise QueryError(
            f"invalid {name} {raw!r}: expected an integer from {minimum} to {maximum}"
        )
    return value


async def get_status(request: web.Request) -> web.Response:
    """GET /api/status: plugins, queue counts, folder counts and the time."""
    snapshot = await asyncio.to_thread(request.app[STATUS_KEY].read)
    return json_response(request, snapshot)


async def get_jobs(request: web.Request) -> web.Response:
    """GET /api/jobs?state=STATE&limit=N: jobs in one state, as the queue lists them."""
    state = request.query.get("state", "done")
    if state not in JOB_STATES:
        return error_response(
            request,
            f"invalid state {state!r}: expected one of {', '.join(JOB_STATES)}",
            400,
        )
    try:
        limit = query_int(request, "limit", DEFAULT_JOBS, 1, MAX_JOBS)
    except QueryError as exc:
        return error_response(request, str(exc), 400)

    agent = request.app[AGENT_KEY]
    if not agent.has_service("queue"):
        return error_response(
            request, "no queue is running; start the agent with the queue plugin", 503
        )
    queue = agent.service("queue")
    try:
        jobs = await asyncio.to_thread(queue.recent, state, limit)
    except Exception as exc:  # noqa: BLE001 - report a broken service, keep serving
        logger.warning("queue service: listing %s jobs failed: %s", state, exc)
        return error_response(
            request,
            f"listing {state} jobs failed ({type(exc).__name__}); see the agent log",
            503,
        )
    return json_response(request, {"state": state, "jobs": jobs})


async def get_events(request: web.Request) -> web.Response:
    """GET /api/events?since=SEQ&kind=KIND&limit=N: agent events, oldest first."""
    try:
        since = query_int(request, "since", 0, 0, 2**63 - 1)
        limit = query_int(request, "limit", DEFAULT_EVENTS, 1, MAX_EVENTS)
    except QueryError as exc:
        return error_response(request, str(exc), 400)
    kind = request.query.get("kind") or None

    events_log = request.app[AGENT_KEY].events
    newer = events_log.since(since)
    events = [event for event in newer if kind is None or event["kind"] == kind]
    last_seq = next_since(since, newer, events_log.last_seq)
    # The newest ones matter most to a page that starts from nothing.
    events = events[-limit:]
    return json_response(request, {"events": events, "last_seq": last_seq})


def next_since(since: int, newer: list[dict[str, Any]], log_last_seq: int) -> int:
    """Return the ``since`` value that fetches only what came after ``newer``.

    ``log_last_seq`` is read after ``newer``, so an event recorded in between
    is not skipped. A ``since`` beyond the log's end (the agent restarted and
    numbers events from 1 again) is lowered to the log's end.
    """
    if newer:
        return int(newer[-1]["seq"])
    return min(since, log_last_seq)
