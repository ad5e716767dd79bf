"""Tests of the server-sent event stream at /api/stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from sentinel.core import Agent
from sentinel.queue import Queue
from sentinel.web import WebServer
from sentinel.web._keys import HUB_KEY

Client = TestClient[Any, Any]

pytestmark = pytest.mark.asyncio(loop_scope="function")

# Guards against a hung stream; no test asserts how fast anything arrives.
READ_TIMEOUT = 20.0


async def read_block(content: aiohttp.StreamReader) -> list[str]:
    """Read one server-sent event block: the lines up to a blank line."""
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(content.readline(), READ_TIMEOUT)
        if not raw:
            raise EOFError("the stream ended")
        line = raw.decode().rstrip("\n")
        if line == "":
            if lines:
                return lines
            continue
        lines.append(line)


async def read_until_end(content: aiohttp.StreamReader) -> None:
    """Read blocks until the stream ends, which raises EOFError."""
    while True:
        await read_block(content)


def parse_block(lines: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for line in lines:
        name, _, value = line.partition(": ")
        fields[name] = value
    return fields


async def next_message(
    content: aiohttp.StreamReader, name: str, skip_comments: bool = True
) -> dict[str, Any]:
    """Return the next message named ``name``, skipping other ones."""
    while True:
        fields = parse_block(await read_block(content))
        if fields.get("event") == name:
            fields["data"] = json.loads(fields["data"])
            return fields


async def test_stream_starts_with_retry_and_status(client: Client) -> None:
    response = await client.get("/api/stream")

    assert response.status == 200
    assert response.content_type == "text/event-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert await read_block(response.content) == ["retry: 2000"]
    status = await next_message(response.content, "status")
    assert status["data"]["queue"]["queued"] == 0
    assert status["data"]["folders"]["inbox"]["processed"] == 5
    response.close()


async def test_stream_sends_backlog_then_new_events(
    client: Client, agent: Agent
) -> None:
    agent.events.record("file", path="old.csv", action="ready")

    response = await client.get("/api/stream")
    backlog = await next_message(response.content, "event")
    agent.events.record("file", path="new.csv", action="processed")
    fresh = await next_message(response.content, "event")

    assert backlog["data"]["path"] == "old.csv"
    assert backlog["id"] == "1"
    assert fresh["data"]["path"] == "new.csv"
    assert fresh["id"] == "2"
    response.close()


async def test_stream_filters_by_kind(client: Client, agent: Agent) -> None:
    agent.events.record("box", action="uploaded")
    agent.events.record("file", path="a.csv", action="ready")

    response = await client.get("/api/stream?kind=file")
    first = await next_message(response.content, "event")

    assert first["data"]["kind"] == "file"
    response.close()


async def test_stream_resumes_after_last_event_id(client: Client, agent: Agent) -> None:
    seqs = [agent.events.record("file", path=name)["seq"] for name in "abc"]

    response = await client.get("/api/stream", headers={"Last-Event-ID": str(seqs[1])})
    first = await next_message(response.content, "event")

    assert first["data"]["path"] == "c"
    response.close()


async def test_stream_since_skips_older_events(client: Client, agent: Agent) -> None:
    seqs = [agent.events.record("file", path=name)["seq"] for name in "ab"]

    response = await client.get(f"/api/stream?since={seqs[0]}")
    first = await next_message(response.content, "event")

    assert first["data"]["path"] == "b"
    response.close()


async def test_stream_rejects_invalid_since(client: Client) -> None:
    response = await client.get("/api/stream?since=soon")

    assert response.status == 400
    assert "invalid since" in (await response.json())["error"]


async def test_stream_sends_status_when_counts_change(
    client: Client, queue: Queue
) -> None:
    response = await client.get("/api/stream")
    before = await next_message(response.content, "status")
    queue.enqueue("box.upload", {"path": "a.csv"})
    after = await next_message(response.content, "status")

    assert before["data"]["queue"]["queued"] == 0
    assert after["data"]["queue"]["queued"] == 1
    response.close()


async def test_stream_sends_heartbeat_when_idle(client: Client) -> None:
    response = await client.get("/api/stream")
    await next_message(response.content, "status")

    while True:
        lines = await read_block(response.content)
        if lines == [": heartbeat"]:
            break
    response.close()


async def test_stream_hides_configured_secret(
    client: Client, agent: Agent, secret: str
) -> None:
    agent.events.record("file", path="x", reason=f"token {secret} rejected")

    response = await client.get("/api/stream")
    event = await next_message(response.content, "event")

    assert secret not in json.dumps(event["data"])
    assert event["data"]["reason"] == "token *** rejected"
    response.close()


async def test_stream_client_disconnect_frees_hub(client: Client) -> None:
    assert client.app is not None
    hub = client.app[HUB_KEY]
    response = await client.get("/api/stream")
    await next_message(response.content, "status")
    assert hub.subscribers == 1

    response.close()
    # The server notices the closed socket on its next write.
    for _ in range(400):
        if hub.subscribers == 0:
            break
        await asyncio.sleep(0.05)
    assert hub.subscribers == 0


async def test_server_stop_ends_open_stream(agent: Agent) -> None:
    server = WebServer(agent, port=0, poll_interval=0.05)
    await asyncio.to_thread(server.start)
    try:
        async with aiohttp.ClientSession() as session:
            response = await session.get(f"{server.url}api/stream")
            await next_message(response.content, "status")
            await asyncio.to_thread(server.stop)
            with pytest.raises((EOFError, aiohttp.ClientPayloadError)):
                await read_until_end(response.content)
    finally:
        await asyncio.to_thread(server.stop)
