"""Tests of batching, priorities, delays, cancelling, requeue, purge and limits."""

from __future__ import annotations

import json
import time

import redis

from sentinel.queue import Job, Queue


def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_ack_fetch_acknowledges_and_leases_in_one_call(queue: Queue) -> None:
    ids = [queue.enqueue("qtest.echo", {"n": n}) for n in range(5)]
    first = queue.ack_fetch("w1", 3)
    assert [job.id for job in first.jobs] == ids[:3]
    done = [(job, json.dumps(job.payload["n"])) for job in first.jobs]
    second = queue.ack_fetch("w1", 10, done)
    assert second.acked == [True, True, True]
    assert [job.id for job in second.jobs] == ids[3:]
    assert queue.counts()["done"] == 3
    assert queue.counts()["active"] == 2
    record = queue.get(ids[1])
    assert record is not None
    assert record["result"] == 1


def test_ack_fetch_rejects_stale_acknowledgement(queue: Queue) -> None:
    queue.enqueue("qtest.echo", {})
    job = queue.fetch_many("w1", 1)[0]
    assert queue.release(job)
    again = queue.fetch_many("w2", 1)[0]
    reply = queue.ack_fetch("w1", 0, [(job, "1")])
    assert reply.acked == [False]
    assert queue.finish(again, 2)


def test_priority_runs_first_then_fifo(queue: Queue) -> None:
    low = queue.enqueue("qtest.echo", {}, priority=-1)
    normal = [queue.enqueue("qtest.echo", {"n": n}) for n in range(2)]
    high = queue.enqueue("qtest.echo", {}, priority=5)
    order = [job.id for job in queue.fetch_many("w1", 10)]
    assert order == [high, *normal, low]


def test_delayed_job_waits_in_redis(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.echo", {}, delay=0.3)
    assert queue.counts()["delayed"] == 1
    wait = queue.fetch("w1")
    assert isinstance(wait, float)
    assert 0 < wait <= 0.3
    wait_for(lambda: isinstance(queue.fetch("w1"), Job))
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "active"


def test_cancel_queued_job(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.echo", {}, unique_key="k")
    assert queue.cancel(job_id) == "cancelled"
    assert queue.fetch("w1") is None
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "cancelled"
    assert queue.counts()["cancelled"] == 1
    assert queue.enqueue("qtest.echo", {}, unique_key="k") != job_id
    assert queue.cancel(job_id) == "finished"
    assert queue.cancel("missing") == "unknown"


def test_cancel_active_job_is_flagged_for_its_worker(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.echo", {})
    job = queue.fetch_many("w1", 1)[0]
    assert queue.cancel(job_id) == "cancelling"
    assert queue.heartbeat_flags([job]) == [2]
    assert queue.fail(job, "JobCancelledError", None) == "cancelled"


def test_requeue_failed_job_with_fresh_attempts(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.echo", {}, max_retries=0)
    job = queue.fetch_many("w1", 1)[0]
    assert queue.fail(job, "boom", 0.0) == "failed"
    assert [r["id"] for r in queue.recent("failed")] == [job_id]
    assert queue.requeue(job_id)
    assert queue.recent("failed") == []
    again = queue.fetch_many("w1", 1)[0]
    assert again.id == job_id
    assert again.attempt == 1
    assert not queue.requeue(job_id)


def test_purge_and_paged_listing(queue: Queue) -> None:
    ids = [queue.enqueue("qtest.echo", {"n": n}) for n in range(5)]
    page = queue.jobs("queued", limit=2, offset=2)
    assert [r["id"] for r in page] == ids[2:4]
    assert queue.purge("queued") == 5
    assert queue.counts()["queued"] == 0
    assert queue.get(ids[0]) is None


def test_concurrency_limit_caps_active_jobs(client: redis.Redis) -> None:
    queue = Queue(client, "limited", concurrency=2)
    for n in range(5):
        queue.enqueue("qtest.echo", {"n": n})
    assert len(queue.fetch_many("w1", 10)) == 2
    assert queue.fetch_many("w2", 10) == []


def test_rate_limit_spreads_starts(client: redis.Redis) -> None:
    queue = Queue(client, "rated", rate_limit=5.0, rate_burst=2)
    for n in range(6):
        queue.enqueue("qtest.echo", {"n": n})
    assert len(queue.fetch_many("w1", 10)) == 2
    assert queue.fetch_many("w1", 10) == []
    wait_for(lambda: len(queue.fetch_many("w1", 10)) > 0)


def test_timestamps_keep_microseconds(queue: Queue, client: redis.Redis) -> None:
    job_id = queue.enqueue("qtest.echo", {})
    raw = json.loads(str(client.hget(queue.keys.status, job_id)))
    assert isinstance(raw["enqueued_at"], str)
    assert len(raw["enqueued_at"]) == 16
    record = queue.get(job_id)
    assert record is not None
    assert record["enqueued_at"] == int(raw["enqueued_at"]) / 1_000_000


def test_progress_is_fenced_by_token(queue: Queue) -> None:
    queue.enqueue("qtest.echo", {})
    job = queue.fetch_many("w1", 1)[0]
    queue.release(job)
    newer = queue.fetch_many("w2", 1)[0]
    assert not queue.progress(job, 0.5, "late")
    assert queue.progress(newer, 0.5, "current")
    record = queue.get(job.id)
    assert record is not None
    assert record["progress"] == {"fraction": 0.5, "message": "current"}


def test_expired_record_removes_progress(client: redis.Redis) -> None:
    queue = Queue(client, "short", failed_ttl=0.05, lease_seconds=0.1)
    queue.enqueue("qtest.echo", {}, max_retries=0)
    job = queue.fetch_many("w1", 1)[0]
    assert queue.progress(job, 0.5)
    wait_for(lambda: queue.recover()[1] == [job.id])
    wait_for(lambda: queue.recover() is not None and queue.get(job.id) is None)
    assert client.hlen(queue.keys.progress) == 0


def test_enqueue_tick_once_for_many_schedulers(queue: Queue) -> None:
    first = queue.enqueue_tick("nightly@2026-01-01T02:00", "qtest.echo", {})
    second = queue.enqueue_tick("nightly@2026-01-01T02:00", "qtest.echo", {})
    assert first is not None
    assert second is None
    assert queue.counts()["queued"] == 1
