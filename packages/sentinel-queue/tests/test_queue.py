"""Tests of Queue: every state change against a real server."""

from __future__ import annotations

import json
import time

import pytest
import redis

from sentinel.queue import Job, JobEncodingError, Queue, QueueError


def fetch_job(queue: Queue, worker: str = "w1") -> Job:
    fetched = queue.fetch(worker)
    assert isinstance(fetched, Job), f"expected a job, got {fetched!r}"
    return fetched


def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_enqueue_fetch_finish(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.echo", {"path": "a.csv"})
    assert queue.counts()["queued"] == 1

    job = fetch_job(queue)
    assert job.id == job_id
    assert job.task == "qtest.echo"
    assert job.payload == {"path": "a.csv"}
    assert job.attempt == 1
    assert job.max_attempts == 3
    assert queue.counts()["active"] == 1

    assert queue.finish(job, {"ok": True})
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "done"
    assert record["result"] == {"ok": True}
    assert record["attempts"] == 1
    assert record["finished_at"] >= record["enqueued_at"]
    assert queue.counts() == {
        "queued": 0,
        "active": 0,
        "delayed": 0,
        "done": 1,
        "failed": 0,
        "cancelled": 0,
    }


def test_fetch_order_is_fifo(queue: Queue) -> None:
    ids = [queue.enqueue("qtest.echo", {"n": n}) for n in range(5)]
    assert [fetch_job(queue).id for _ in ids] == ids
    assert queue.fetch("w1") is None


def test_recent_newest_first(queue: Queue) -> None:
    ids = [queue.enqueue("qtest.echo", {"n": n}) for n in range(3)]
    for _ in ids:
        job = fetch_job(queue)
        queue.finish(job, job.payload["n"])
    recent = queue.recent("done")
    assert [job["id"] for job in recent] == list(reversed(ids))
    assert [job["result"] for job in recent] == [2, 1, 0]
    assert queue.recent("done", limit=1)[0]["id"] == ids[-1]
    assert queue.recent("failed") == []


def test_recent_lists_active_jobs_with_worker(queue: Queue) -> None:
    running = queue.enqueue("qtest.echo", {"n": 1})
    waiting = queue.enqueue("qtest.echo", {"n": 2})
    job = fetch_job(queue)
    assert job.id == running
    active = queue.recent("active")
    assert [record["id"] for record in active] == [running]
    assert active[0]["state"] == "active"
    assert active[0]["worker"] == "w1"
    assert active[0]["started"] is True
    assert [record["id"] for record in queue.recent("queued")] == [waiting]


def test_recent_rejects_unknown_state(queue: Queue) -> None:
    with pytest.raises(QueueError, match="'finished' is not listed"):
        queue.recent("finished")


def test_recent_lists_cancelled_newest_first(queue: Queue) -> None:
    first = queue.enqueue("qtest.echo", {"n": 1})
    second = queue.enqueue("qtest.echo", {"n": 2})
    queue.cancel(first)
    queue.cancel(second)

    records = queue.recent("cancelled")

    assert [record["id"] for record in records] == [second, first]
    assert {record["state"] for record in records} == {"cancelled"}


def test_recent_history_is_capped(client: redis.Redis) -> None:
    queue = Queue(client, "capped", history=3)
    for n in range(5):
        queue.enqueue("qtest.echo", {"n": n})
        queue.finish(fetch_job(queue), n)
    assert [job["result"] for job in queue.recent("done")] == [4, 3, 2]
    assert queue.counts()["done"] == 5


def test_fail_retries_then_fails_with_error(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.fail", {})
    outcomes = []
    for attempt in (1, 2, 3):
        job = fetch_job(queue)
        assert job.attempt == attempt
        outcomes.append(queue.fail(job, f"broke {attempt}", retry_in=0.0))
    assert outcomes == ["retry", "retry", "failed"]
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "failed"
    assert record["attempts"] == 3
    assert record["error"] == "broke 3"
    assert queue.recent("failed")[0]["id"] == job_id
    assert queue.counts()["failed"] == 1


def test_fail_without_retry_fails_at_once(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.permanent", {})
    assert queue.fail(fetch_job(queue), "bad input", retry_in=None) == "failed"
    record = queue.get(job_id)
    assert record is not None
    assert record["attempts"] == 1


def test_retry_waits_in_delayed_set(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.fail", {})
    queue.fail(fetch_job(queue), "broke", retry_in=30.0)
    assert queue.counts()["delayed"] == 1
    wait = queue.fetch("w1")
    assert isinstance(wait, float)
    assert 0 < wait <= 30.0
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "delayed"


def test_retry_is_promoted_when_due(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.fail", {})
    queue.fail(fetch_job(queue), "broke", retry_in=0.05)
    wait_for(lambda: isinstance(queue.fetch("w2"), Job) or queue.counts()["active"])
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "active"
    assert record["attempts"] == 2


def test_stale_token_cannot_overwrite(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.echo", {})
    first = fetch_job(queue, "slow")
    # Let the lease lapse so the job is delivered again.
    wait_for(lambda: queue.recover()[0] == [job_id])
    second = fetch_job(queue, "fast")
    assert second.token > first.token

    assert not queue.finish(first, "late")
    assert queue.fail(first, "late error", retry_in=0.0) == "stale"
    assert queue.heartbeat([first]) == [False]
    assert not queue.release(first)
    assert queue.heartbeat([second]) == [True]

    assert queue.finish(second, "fresh")
    record = queue.get(job_id)
    assert record is not None
    assert record["result"] == "fresh"
    assert record["worker"] == "fast"
    assert not queue.finish(first, "later still")


def test_recover_fails_job_on_last_attempt(client: redis.Redis) -> None:
    queue = Queue(client, "once", max_retries=0, lease_seconds=0.2)
    job_id = queue.enqueue("qtest.echo", {})
    fetch_job(queue)
    wait_for(lambda: queue.recover()[1] == [job_id])
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "failed"
    assert "lease expired during attempt 1 of 1" in record["error"]


def test_heartbeat_keeps_lease(client: redis.Redis) -> None:
    queue = Queue(client, "beat", lease_seconds=0.3)
    queue.enqueue("qtest.echo", {})
    job = fetch_job(queue)
    for _ in range(5):
        assert queue.heartbeat([job]) == [True]
        assert queue.recover() == ([], [])
        time.sleep(0.1)
    assert queue.counts()["active"] == 1


def test_release_returns_job_to_head(queue: Queue) -> None:
    first = queue.enqueue("qtest.echo", {"n": 1})
    queue.enqueue("qtest.echo", {"n": 2})
    job = fetch_job(queue)
    assert queue.release(job)
    again = fetch_job(queue)
    assert again.id == first
    assert again.attempt == 1


def test_unique_key_dedupes_unfinished_jobs(queue: Queue) -> None:
    first = queue.enqueue("qtest.echo", {}, unique_key="inbox/a.csv")
    assert queue.enqueue("qtest.echo", {}, unique_key="inbox/a.csv") == first
    job = fetch_job(queue)
    assert queue.enqueue("qtest.echo", {}, unique_key="inbox/a.csv") == first
    assert queue.counts()["queued"] == 0

    queue.finish(job, None)
    second = queue.enqueue("qtest.echo", {}, unique_key="inbox/a.csv")
    assert second != first
    assert queue.counts()["queued"] == 1


def test_max_retries_per_job(queue: Queue) -> None:
    queue.enqueue("qtest.fail", {}, max_retries=0)
    assert fetch_job(queue).max_attempts == 1
    with pytest.raises(QueueError, match="max_retries is -1"):
        queue.enqueue("qtest.fail", {}, max_retries=-1)


def test_values_are_versioned_json(queue: Queue, client: redis.Redis) -> None:
    payload = {"empty": [], "big": 12345678901234567890, "text": "zäh ✓"}
    job_id = queue.enqueue("qtest.echo", payload)
    spec = json.loads(client.hget(queue.keys.jobs, job_id))  # type: ignore[arg-type]
    assert spec["v"] == 1
    assert spec["payload"] == payload
    status = json.loads(client.hget(queue.keys.status, job_id))  # type: ignore[arg-type]
    assert status["state"] == "queued"

    job = fetch_job(queue)
    assert job.payload == payload
    queue.finish(job, {"rows": [], "count": 2**70})
    stored = client.hget(queue.keys.results, job_id)
    assert json.loads(stored) == {"rows": [], "count": 2**70}  # type: ignore[arg-type]
    for key in client.keys("sentinel:{test}:*"):
        assert "{test}" in key
        if client.type(key) == "hash":
            for value in client.hvals(key):
                json.loads(value)


@pytest.mark.parametrize(
    "payload",
    [{"when": object()}, {"ratio": float("nan")}, {"raw": b"bytes"}],
    ids=["object", "nan", "bytes"],
)
def test_enqueue_rejects_non_json(queue: Queue, payload: dict[str, object]) -> None:
    with pytest.raises(JobEncodingError, match="not JSON-serialisable"):
        queue.enqueue("qtest.echo", payload)
    assert queue.counts()["queued"] == 0


def test_finished_jobs_expire(client: redis.Redis) -> None:
    queue = Queue(client, "short", result_ttl=0.1)
    job_id = queue.enqueue("qtest.echo", {})
    queue.finish(fetch_job(queue), 1)
    wait_for(lambda: queue.recover() is not None and queue.get(job_id) is None)
    assert queue.recent("done") == []
    assert queue.counts()["done"] == 1


def test_progress_is_stored_while_active(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.echo", {})
    job = fetch_job(queue)
    assert queue.progress(job, 1.5, "half")
    record = queue.get(job_id)
    assert record is not None
    assert record["progress"] == {"fraction": 1.0, "message": "half"}
    queue.finish(job, None)
    record = queue.get(job_id)
    assert record is not None
    assert record["progress"] is None
    assert not queue.progress(job, 0.5, "after the end")
    record = queue.get(job_id)
    assert record is not None
    assert record["progress"] is None


def test_get_unknown_job(queue: Queue) -> None:
    assert queue.get("missing") is None


def test_enqueue_after_script_flush(queue: Queue, client: redis.Redis) -> None:
    first = queue.enqueue("qtest.echo", {"n": 1})
    client.script_flush()
    second = queue.enqueue("qtest.echo", {"n": 2})
    assert [job["id"] for job in queue.recent("queued")] == [first, second]


def test_send_ack_fetch_reply_later(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.echo", {"n": 1})
    pending = queue.send_ack_fetch("w1", 1)
    batch = pending.result()
    assert [job.id for job in batch.jobs] == [job_id]
    assert pending.result().jobs[0].id == job_id


def test_enqueue_many_adds_jobs_in_order(queue: Queue) -> None:
    payloads = [{"i": index} for index in range(7)]
    ids = queue.enqueue_many("qtest.echo", payloads, max_retries=1, chunk=3)
    assert len(ids) == 7
    assert len(set(ids)) == 7
    assert queue.counts()["queued"] == 7
    for index, job_id in enumerate(ids):
        job = fetch_job(queue)
        assert job.id == job_id
        assert job.payload == {"i": index}
        assert job.max_attempts == 2


def test_enqueue_many_with_nothing_adds_nothing(queue: Queue) -> None:
    assert queue.enqueue_many("qtest.echo", []) == []
    assert queue.counts()["queued"] == 0


def test_enqueue_many_delays_and_validates(queue: Queue) -> None:
    ids = queue.enqueue_many("qtest.echo", [{}, {}], delay=60)
    assert queue.counts()["delayed"] == 2
    assert len(ids) == 2
    with pytest.raises(QueueError, match="chunk"):
        queue.enqueue_many("qtest.echo", [{}], chunk=0)
    with pytest.raises(QueueError, match="priority"):
        queue.enqueue_many("qtest.echo", [{}], priority=5000)


def test_enqueue_many_reloads_scripts_after_flush(
    queue: Queue, client: redis.Redis
) -> None:
    client.script_flush()
    ids = queue.enqueue_many("qtest.echo", [{"i": 1}, {"i": 2}])
    assert queue.counts()["queued"] == 2
    assert fetch_job(queue).id == ids[0]
