"""Server-sent events: status snapshots when they change, and new agent events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from sentinel.core import Agent
from sentinel.web._api import QueryError, query_int
from sentinel.web._keys import AGENT_KEY, HEARTBEAT_KEY, HUB_KEY
from sentinel.web._responses import dumps, error_response
from sentinel.web._status import StatusReader

logger = logging.getLogger(__name__)

# Events a new client gets when it names no starting point.
BACKLOG = 50
# How long the browser waits before it reconnects, in milliseconds.
RETRY_MS = 2000


class StatusHub:
    """Poll the status for every connected stream at once.

    One task reads the status every ``poll_interval`` seconds while at least
    one client listens, bumps :attr:`version` when anything but the time
    changed, and wakes every stream so each can also send new agent events.
    """

    def __init__(self, reader: StatusReader, poll_interval: float) -> None:
        self.reader = reader
        self.poll_interval = poll_interval
        self.snapshot: dict[str, Any] | None = None
        self.version = 0
        self.closing = False
        self._subscribers = 0
        self._tick = asyncio.Condition()
        self._wanted = asyncio.Event()

    @property
    def subscribers(self) -> int:
        """Number of streams that are open now."""
        return self._subscribers

    async def run(self) -> None:
        """Poll until cancelled; meant to run as a background task of the app."""
        while True:
            await self._wanted.wait()
            try:
                await self.refresh()
            except Exception:
                # The reader already turns service failures into problems;
                # anything else is a defect, logged once per poll.
                logger.exception("web status: reading the status failed")
            await asyncio.sleep(self.poll_interval)

    async def refresh(self) -> None:
        """Read the status now and wake every stream."""
        snapshot = await asyncio.to_thread(self.reader.read)
        if self.snapshot is None or _without_time(snapshot) != _without_time(
            self.snapshot
        ):
            self.version += 1
        self.snapshot = snapshot
        await self._notify()

    async def wait(self, timeout: float) -> None:
        """Wait for the next poll, the server's shutdown or ``timeout`` seconds."""
        async with self._tick:
            if self.closing:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tick.wait(), timeout)

    async def close(self) -> None:
        """Tell every stream to end, so the server can stop without waiting."""
        self.closing = True
        await self._notify()

    @contextlib.asynccontextmanager
    async def subscription(self) -> AsyncIterator[None]:
        """Count one listening client while the block runs."""
        self._subscribers += 1
        self._wanted.set()
        try:
            if self.snapshot is None:
                await self.refresh()
            yield
        finally:
            self._subscribers -= 1
            if self._subscribers == 0:
                self._wanted.clear()
                # A client that comes back later must not see a stale snapshot.
                self.snapshot = None

    async def _notify(self) -> None:
        async with self._tick:
            self._tick.notify_all()


def _without_time(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in snapshot.items() if key != "time"}


async def get_stream(request: web.Request) -> web.StreamResponse:
    """GET /api/stream: a text/event-stream of status snapshots and agent events."""
    try:
        start = _start_seq(request)
    except QueryError as exc:
        return error_response(request, str(exc), 400)
    kind = request.query.get("kind") or None

    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    try:
        await _send_until_closed(request, response, start, kind)
    except ConnectionResetError:
        logger.debug("web stream %s: client disconnected", request.remote)
    return response


def _start_seq(request: web.Request) -> int | None:
    """Return the sequence number to stream events after; None means a backlog.

    A reconnecting EventSource sends the id of the last event it saw in the
    ``Last-Event-ID`` header; a first connection may pass ``?since=SEQ``.
    """
    header = request.headers.get("Last-Event-ID")
    if header:
        try:
            return max(0, int(header))
        except ValueError:
            return None
    if "since" in request.query:
        return query_int(request, "since", 0, 0, 2**63 - 1)
    return None


async def _send_until_closed(
    request: web.Request,
    response: web.StreamResponse,
    start: int | None,
    kind: str | None,
) -> None:
    hub = request.app[HUB_KEY]
    agent = request.app[AGENT_KEY]
    heartbeat = request.app[HEARTBEAT_KEY]
    await response.write(f"retry: {RETRY_MS}\n\n".encode())

    async with hub.subscription():
        last_seq, _ = await _send_events(request, response, agent, start, kind)
        sent_version = -1
        loop = asyncio.get_running_loop()
        last_write = loop.time()
        while not hub.closing:
            if hub.snapshot is not None and hub.version != sent_version:
                sent_version = hub.version
                await _send(response, "status", dumps(request, hub.snapshot))
                last_write = loop.time()
            last_seq, sent = await _send_events(
                request, response, agent, last_seq, kind
            )
            if sent:
                last_write = loop.time()
            elif loop.time() - last_write >= heartbeat:
                # A comment line keeps proxies and the browser from closing an
                # idle connection; EventSource ignores it.
                await response.write(b": heartbeat\n\n")
                last_write = loop.time()
            await hub.wait(heartbeat)


async def _send_events(
    request: web.Request,
    response: web.StreamResponse,
    agent: Agent,
    after: int | None,
    kind: str | None,
) -> tuple[int, int]:
    """Send the events after ``after``; return the new ``after`` and how many."""
    newer = agent.events.since(after or 0)
    matching = [event for event in newer if kind is None or event["kind"] == kind]
    if after is None:
        matching = matching[-BACKLOG:]
    for event in matching:
        await _send(response, "event", dumps(request, event), event_id=event["seq"])
    if newer:
        return int(newer[-1]["seq"]), len(matching)
    return after or 0, 0


async def _send(
    response: web.StreamResponse, name: str, data: str, event_id: int | None = None
) -> None:
    lines = [f"event: {name}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    # JSON from json.dumps holds no raw newline, so one data line is enough.
    lines.append(f"data: {data}")
    await response.write(("\n".join(lines) + "\n\n").encode())
