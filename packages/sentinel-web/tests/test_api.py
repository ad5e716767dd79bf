"""Tests of the JSON API against a real plugin host and a real Redis queue."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sentinel.core import Agent
from sentinel.queue import Queue, find_free_port
from sentinel.web import create_app

Client = TestClient[Any, Any]

pytestmark = pytest.mark.asyncio(loop_scope="function")


async def test_status_lists_plugins_queue_and_folders(
    client: Client, queue: Queue, jobs: Any
) -> None:
    jobs.finish("box.upload", {"path": "b.csv"}, {"id": "1"})
    queue.enqueue("box.upload", {"path": "a.csv"})

    response = await client.get("/api/status")
    body = await response.json()

    assert response.status == 200
    assert {plugin["id"] for plugin in body["plugins"]} == {"web", "demo"}
    assert body["plugins"][0]["status"] == "loaded"
    assert body["queue"] == {
        "queued": 1,
        "active": 0,
        "delayed": 0,
        "done": 1,
        "failed": 0,
    }
    assert body["folders"] == {"inbox": {"inbox": 2, "processed": 5, "failed": 1}}
    assert body["problems"] == []
    assert isinstance(body["time"], float)


async def test_status_without_services(bare_client: Client) -> None:
    body = await (await bare_client.get("/api/status")).json()

    assert body["queue"] is None
    assert body["folders"] == {}
    assert body["problems"] == []


async def test_status_reports_unreachable_queue(
    bare_agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    # A real client aimed at a port where nothing listens.
    unreachable = Queue.from_url(f"redis://127.0.0.1:{find_free_port()}/0", "gone")
    bare_agent.provide("queue", unreachable)
    app = create_app(bare_agent)

    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        with caplog.at_level(logging.WARNING, logger="sentinel.web"):
            first = await (await client.get("/api/status")).json()
            second = await (await client.get("/api/status")).json()

    assert first["queue"] is None
    assert len(first["problems"]) == 1
    assert "queue service failed (ConnectionError)" in first["problems"][0]
    assert second["problems"] == first["problems"]
    warnings = [r for r in caplog.records if "reading its status failed" in r.message]
    assert len(warnings) == 1


async def test_jobs_lists_done_jobs_newest_first(
    client: Client, queue: Queue, jobs: Any
) -> None:
    first = jobs.finish("box.upload", {"relative": "a.csv"}, {"id": "1"})
    second = jobs.finish("box.upload", {"relative": "b.csv"}, {"id": "2"})

    response = await client.get("/api/jobs", params={"state": "done"})
    body = await response.json()

    assert response.status == 200
    assert body["state"] == "done"
    assert [job["id"] for job in body["jobs"]] == [second, first]
    assert body["jobs"][0]["result"] == {"id": "2"}
    assert body["jobs"][0]["payload"] == {"relative": "b.csv"}


async def test_jobs_lists_failures_with_error(
    client: Client, queue: Queue, jobs: Any
) -> None:
    job_id = jobs.fail("files.process", {"relative": "x.csv"}, "bad header")

    body = await (await client.get("/api/jobs?state=failed")).json()

    assert [job["id"] for job in body["jobs"]] == [job_id]
    assert body["jobs"][0]["error"] == "bad header"
    assert body["jobs"][0]["state"] == "failed"


async def test_jobs_limit(client: Client, queue: Queue, jobs: Any) -> None:
    for index in range(3):
        jobs.finish("box.upload", {"n": index}, None)

    body = await (await client.get("/api/jobs?state=done&limit=2")).json()

    assert len(body["jobs"]) == 2


async def test_jobs_lists_queued_and_active(client: Client, queue: Queue) -> None:
    waiting = queue.enqueue("box.upload", {"n": 1})

    queued = await (await client.get("/api/jobs?state=queued")).json()
    active = await (await client.get("/api/jobs?state=active")).json()

    assert [job["id"] for job in queued["jobs"]] == [waiting]
    assert active["jobs"] == []


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("state=running", "invalid state 'running'"),
        ("state=done&limit=0", "invalid limit '0'"),
        ("state=done&limit=501", "invalid limit '501'"),
        ("state=done&limit=ten", "invalid limit 'ten'"),
    ],
    ids=["unknown-state", "zero-limit", "limit-too-high", "limit-not-a-number"],
)
async def test_jobs_rejects_invalid_query(
    client: Client, query: str, fragment: str
) -> None:
    response = await client.get(f"/api/jobs?{query}")
    body = await response.json()

    assert response.status == 400
    assert fragment in body["error"]


async def test_jobs_without_queue_is_unavailable(bare_client: Client) -> None:
    response = await bare_client.get("/api/jobs?state=done")
    body = await response.json()

    assert response.status == 503
    assert "no queue is running" in body["error"]


async def test_events_since_and_kind(client: Client, agent: Agent) -> None:
    agent.events.record("file", path="inbox/a.csv", route="inbox", action="ready")
    marker = agent.events.record("box", action="uploaded")
    agent.events.record("file", path="inbox/a.csv", route="inbox", action="processed")
    agent.events.record("box", action="skipped")

    everything = await (await client.get("/api/events")).json()
    files = await (await client.get("/api/events?kind=file")).json()
    newer = await (await client.get(f"/api/events?since={marker['seq']}")).json()

    assert [event["seq"] for event in everything["events"]] == [1, 2, 3, 4]
    assert everything["last_seq"] == 4
    assert [event["action"] for event in files["events"]] == ["ready", "processed"]
    assert files["last_seq"] == 4
    assert [event["action"] for event in newer["events"]] == ["processed", "skipped"]


async def test_events_limit_keeps_newest(client: Client, agent: Agent) -> None:
    for index in range(5):
        agent.events.record("file", path=f"f{index}")

    body = await (await client.get("/api/events?limit=2")).json()

    assert [event["path"] for event in body["events"]] == ["f3", "f4"]


async def test_events_since_beyond_end(client: Client, agent: Agent) -> None:
    agent.events.record("file", path="a")

    body = await (await client.get("/api/events?since=99")).json()

    assert body["events"] == []
    assert body["last_seq"] == 1


@pytest.mark.parametrize(
    "query",
    ["since=-1", "since=x", "limit=0", "limit=1001"],
    ids=["negative-since", "text-since", "zero-limit", "limit-too-high"],
)
async def test_events_rejects_invalid_query(client: Client, query: str) -> None:
    response = await client.get(f"/api/events?{query}")

    assert response.status == 400
    assert "invalid" in (await response.json())["error"]


async def test_events_serialise_paths_as_text(client: Client, agent: Agent) -> None:
    agent.events.record("file", path=agent.workdir / "inbox" / "a.csv")

    body = await (await client.get("/api/events")).json()

    assert body["events"][0]["path"] == str(agent.workdir / "inbox" / "a.csv")


async def test_output_hides_configured_secret(
    client: Client, agent: Agent, queue: Queue, jobs: Any, secret: str
) -> None:
    agent.events.record("file", path="x", reason=f"login with {secret} failed")
    jobs.fail("box.upload", {"token": secret}, f"rejected {secret}")

    events_text = await (await client.get("/api/events")).text()
    jobs_text = await (await client.get("/api/jobs?state=failed")).text()

    assert secret not in events_text
    assert "login with *** failed" in events_text
    assert secret not in jobs_text
    assert "rejected ***" in jobs_text


async def test_folder_counts_follow_the_service(client: Client, folders: Any) -> None:
    folders.routes["reports"] = {"inbox": 0, "processed": 7, "failed": 3}

    body = await (await client.get("/api/status")).json()

    assert body["folders"]["reports"] == {"inbox": 0, "processed": 7, "failed": 3}
