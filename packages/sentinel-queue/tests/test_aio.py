"""Tests of the asyncio queue client and worker against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest
import pytest_asyncio
import redis.asyncio

from sentinel.core import PluginHost
from sentinel.queue import AsyncQueue, AsyncWorker, EmbeddedRedis, Queue, Worker


@pytest_asyncio.fixture
async def aqueue(server: EmbeddedRedis) -> AsyncIterator[AsyncQueue]:
    client = redis.asyncio.Redis.from_url(server.url, decode_responses=True)
    yield AsyncQueue(client, "test", max_retries=2, lease_seconds=1.0)
    await client.aclose()


@pytest.mark.asyncio
async def test_async_worker_runs_jobs_enqueued_by_sync_client(
    queue: Queue, aqueue: AsyncQueue, host: PluginHost
) -> None:
    ids = [queue.enqueue("qtest.aecho", {"n": n, "raw": "é\u0000"}) for n in range(5)]
    await AsyncWorker(aqueue, host.registry, concurrency=2).run(burst=True)
    for n, job_id in enumerate(ids):
        record = queue.get(job_id)
        assert record is not None
        assert record["state"] == "done"
        assert record["attempts"] == 1
        assert record["result"] == {
            "payload": {"n": n, "raw": "é\u0000"},
            "attempt": 1,
        }
    assert await aqueue.counts() == queue.counts()


@pytest.mark.asyncio
async def test_sync_worker_runs_jobs_enqueued_by_async_client(
    queue: Queue, aqueue: AsyncQueue, host: PluginHost
) -> None:
    job_id = await aqueue.enqueue("qtest.echo", {"value": [1, 2]}, priority=5)
    duplicate = await aqueue.enqueue("qtest.echo", {}, unique_key="only")
    assert await aqueue.enqueue("qtest.echo", {}, unique_key="only") == duplicate
    Worker(queue, host.registry).run(burst=True)
    record = await aqueue.get(job_id)
    assert record is not None
    assert record["state"] == "done"
    assert record["result"]["payload"] == {"value": [1, 2]}
    done = await aqueue.recent("done")
    assert {job["id"] for job in done} == {job_id, duplicate}


@pytest.mark.asyncio
async def test_async_worker_retries_failing_coroutine(
    aqueue: AsyncQueue, host: PluginHost, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    retried = await aqueue.enqueue(
        "qtest.aflaky", {"log": str(log), "succeed_on": 3}, max_retries=3
    )
    exhausted = await aqueue.enqueue(
        "qtest.aflaky", {"log": str(log), "succeed_on": 9}, max_retries=1
    )
    worker = AsyncWorker(aqueue, host.registry, retry_backoff=0.01)
    await worker.run(burst=True)
    record = await aqueue.get(retried)
    assert record is not None
    assert (record["state"], record["attempts"]) == ("done", 3)
    assert record["result"] == {"attempt": 3}
    failed = await aqueue.get(exhausted)
    assert failed is not None
    assert (failed["state"], failed["attempts"]) == ("failed", 2)
    assert failed["error"] == "RuntimeError: attempt 2 broke"
    runs = log.read_text(encoding="utf-8").splitlines()
    assert sum(retried in line for line in runs) == 3
    assert sum(exhausted in line for line in runs) == 2


@pytest.mark.asyncio
async def test_async_worker_honours_concurrency_limit(
    aqueue: AsyncQueue, host: PluginHost, tasks_module: ModuleType
) -> None:
    tasks_module.RUNNING.update(now=0, max=0)
    for _ in range(12):
        await aqueue.enqueue("qtest.aslow", {"sleep": 0.05})
    worker = AsyncWorker(aqueue, host.registry, concurrency=3)
    await worker.run(burst=True)
    assert (await aqueue.counts())["done"] == 12
    assert tasks_module.RUNNING["max"] == 3
    assert worker.limiter.active == 0


@pytest.mark.asyncio
async def test_async_worker_cancels_running_coroutine(
    aqueue: AsyncQueue, host: PluginHost
) -> None:
    job_id = await aqueue.enqueue("qtest.aslow", {"sleep": 30})
    worker = AsyncWorker(aqueue, host.registry)

    async def cancel_when_running() -> None:
        while (await aqueue.counts())["active"] == 0:
            await asyncio.sleep(0.02)
        assert await aqueue.cancel(job_id) == "cancelling"

    canceller = asyncio.create_task(cancel_when_running())
    await asyncio.wait_for(worker.run(burst=True), 20)
    await canceller
    record = await aqueue.get(job_id)
    assert record is not None
    assert record["state"] == "cancelled"


@pytest.mark.asyncio
async def test_async_worker_stop_hands_back_running_job(
    aqueue: AsyncQueue, host: PluginHost
) -> None:
    job_id = await aqueue.enqueue("qtest.aslow", {"sleep": 30})
    worker = AsyncWorker(aqueue, host.registry, grace_seconds=0.2)
    running = asyncio.create_task(worker.run())
    while (await aqueue.counts())["active"] == 0:
        await asyncio.sleep(0.02)
    worker.stop()
    await asyncio.wait_for(running, 20)
    record = await aqueue.get(job_id)
    assert record is not None
    assert (record["state"], record["attempts"]) == ("queued", 0)
