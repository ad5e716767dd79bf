"""Tests of attempt counting: an attempt is spent when a job starts, not when leased."""

from __future__ import annotations

import time

from sentinel.queue import Queue


def wait_expired(queue: Queue) -> tuple[list[str], list[str]]:
    time.sleep(queue.lease_seconds + 0.2)
    return queue.recover()


def test_attempts_unstarted_batch_jobs_come_back_without_attempt(
    queue: Queue,
) -> None:
    ids = [queue.enqueue("qtest.echo", {"n": n}) for n in range(4)]
    batch = queue.ack_fetch("w1", 4, starts=1)
    assert [job.id for job in batch.jobs] == ids
    assert [job.attempt for job in batch.jobs] == [1, 1, 1, 1]
    assert queue.start(batch.jobs[1])
    requeued, failed = wait_expired(queue)
    assert sorted(requeued) == sorted(ids)
    assert failed == []
    attempts = [(queue.get(job_id) or {})["attempts"] for job_id in ids]
    assert attempts == [1, 1, 0, 0]


def test_attempts_unstarted_job_never_fails_for_lost_leases(
    queue: Queue,
) -> None:
    job_id = queue.enqueue("qtest.echo", {}, max_retries=0)
    for _ in range(3):
        queue.ack_fetch("w1", 1, starts=0)
        requeued, failed = wait_expired(queue)
        assert requeued == [job_id]
        assert failed == []
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "queued"
    assert record["attempts"] == 0


def test_attempts_start_is_fenced(queue: Queue) -> None:
    queue.enqueue("qtest.echo", {})
    old = queue.ack_fetch("w1", 1, starts=0).jobs[0]
    queue.release(old)
    newer = queue.ack_fetch("w2", 1, starts=0).jobs[0]
    assert not queue.start(old)
    assert queue.start(newer)
    assert queue.start(newer)
    record = queue.get(newer.id)
    assert record is not None
    assert record["attempts"] == 1
    assert record["worker"] == "w2"


def test_attempts_release_of_started_job_gives_the_attempt_back(
    queue: Queue,
) -> None:
    job_id = queue.enqueue("qtest.echo", {})
    unstarted, started = queue.enqueue("qtest.echo", {}), job_id
    batch = queue.ack_fetch("w1", 2, starts=1)
    assert [job.id for job in batch.jobs] == [started, unstarted]
    assert queue.release_many(batch.jobs) == [True, True]
    assert (queue.get(started) or {})["attempts"] == 0
    assert (queue.get(unstarted) or {})["attempts"] == 0


def test_attempts_finish_without_start_mark_counts_the_attempt(
    queue: Queue,
) -> None:
    job_id = queue.enqueue("qtest.echo", {})
    job = queue.ack_fetch("w1", 1, starts=0).jobs[0]
    assert queue.finish(job, {"ok": True})
    record = queue.get(job_id)
    assert record is not None
    assert (record["state"], record["attempts"]) == ("done", 1)
