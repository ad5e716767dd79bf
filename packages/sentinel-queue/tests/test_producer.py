"""The background producer and batched enqueue, against a real server."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis

from sentinel.queue import AsyncQueue, EmbeddedRedis, EnqueueError, Queue, QueueError
from sentinel.queue._scripts import WAKE_CAP


def fetch_ids(queue: Queue, count: int) -> list[str]:
    return [job.id for job in queue.fetch_many("w1", count)]


def evalsha_calls(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


def test_producer_stores_jobs_in_order(queue: Queue) -> None:
    with queue.producer() as producer:
        ids = [producer.enqueue("qtest.echo", {"i": index}) for index in range(1200)]
    assert producer.pending == 0
    assert queue.counts()["queued"] == 1200
    jobs = queue.fetch_many("w1", 1200)
    assert [job.id for job in jobs] == ids
    assert [job.payload for job in jobs] == [{"i": index} for index in range(1200)]


def test_producer_sends_many_jobs_per_script_call(
    queue: Queue, client: redis.Redis
) -> None:
    queue.enqueue_many("qtest.echo", [{}])  # loads the script
    before = evalsha_calls(client)
    with queue.producer(linger=1.0, max_batch=500) as producer:
        for index in range(1000):
            producer.enqueue("qtest.echo", {"i": index})
    assert queue.counts()["queued"] == 1001
    # Two full batches, or a few more if the producer flushed while the
    # loop was still running; never one call per job.
    assert evalsha_calls(client) - before <= 10


def test_producer_flush_returns_once_jobs_are_stored(queue: Queue) -> None:
    producer = queue.producer(linger=1.0)
    job_id = producer.enqueue("qtest.echo", {"n": 1}, priority=5, max_retries=0)
    producer.flush()
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "queued"
    assert record["max_attempts"] == 1
    producer.close()


def test_producer_rejects_bad_options_in_the_caller(queue: Queue) -> None:
    with queue.producer() as producer:
        with pytest.raises(QueueError, match="priority is 5000"):
            producer.enqueue("qtest.echo", {}, priority=5000)
        with pytest.raises(QueueError, match="not JSON-serialisable"):
            producer.enqueue("qtest.echo", {"when": object()})
    assert queue.counts()["queued"] == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"linger": -1}, "linger is -1"),
        ({"linger": 5}, "linger is 5"),
        ({"max_batch": 0}, "max_batch 0"),
        ({"max_batch": 10, "max_pending": 5}, "max_pending 5"),
    ],
    ids=["negative-linger", "long-linger", "empty-batch", "pending-below-batch"],
)
def test_producer_rejects_bad_settings(
    queue: Queue, options: dict[str, float], message: str
) -> None:
    with pytest.raises(QueueError, match=message):
        queue.producer(**options)  # type: ignore[arg-type]


def test_closed_producer_rejects_jobs(queue: Queue) -> None:
    producer = queue.producer()
    producer.close()
    with pytest.raises(QueueError, match="closed"):
        producer.enqueue("qtest.echo", {})


def test_producer_keeps_jobs_while_the_server_is_down(
    queue: Queue, server: EmbeddedRedis
) -> None:
    producer = queue.producer(linger=0.0)
    first = producer.enqueue("qtest.echo", {"n": 0})
    producer.flush()
    server.kill()
    waiting = [producer.enqueue("qtest.echo", {"n": n}) for n in range(1, 51)]
    with pytest.raises(QueueError, match="were not stored within"):
        producer.flush(timeout=0.5)
    assert producer.pending > 0
    server.start()
    producer.close()
    assert fetch_ids(queue, 100) == [first, *waiting]


def test_producer_blocks_when_too_many_jobs_wait(
    queue: Queue, server: EmbeddedRedis
) -> None:
    producer = queue.producer(linger=0.0, max_batch=2, max_pending=2)
    server.kill()
    done = threading.Event()

    def produce() -> None:
        for n in range(6):
            producer.enqueue("qtest.echo", {"n": n})
        done.set()

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    # Two jobs in flight and two waiting: the fifth enqueue cannot return.
    assert not done.wait(0.5)
    server.start()
    assert done.wait(30)
    producer.close()
    assert queue.counts()["queued"] == 6


def test_producer_reports_rejected_jobs(queue: Queue, client: redis.Redis) -> None:
    producer = queue.producer(linger=0.0)
    client.config_set("maxmemory", 1)
    try:
        rejected = producer.enqueue("qtest.echo", {"n": 1})
        with pytest.raises(EnqueueError, match="1 jobs of queue 'test'") as caught:
            producer.flush()
    finally:
        client.config_set("maxmemory", 0)
    assert caught.value.job_ids == [rejected]
    stored = producer.enqueue("qtest.echo", {"n": 2})
    producer.close()
    assert fetch_ids(queue, 10) == [stored]


def test_producer_flushes_at_interpreter_exit(
    queue: Queue, server: EmbeddedRedis, tmp_path: Path
) -> None:
    script = tmp_path / "produce.py"
    script.write_text(
        "from sentinel.queue import Queue\n"
        f"queue = Queue.from_url({server.url!r}, 'test')\n"
        "producer = queue.producer(linger=1.0)\n"
        "for n in range(300):\n"
        "    producer.enqueue('qtest.echo', {'n': n})\n",
        encoding="utf-8",
    )
    subprocess.run([sys.executable, str(script)], check=True, timeout=60)
    assert queue.counts()["queued"] == 300


def test_enqueue_many_is_one_script_call_per_chunk(
    queue: Queue, client: redis.Redis
) -> None:
    assert queue.enqueue_many("qtest.echo", []) == []
    first = queue.enqueue_many("qtest.echo", [{}])  # loads the script
    before = evalsha_calls(client)
    ids = queue.enqueue_many("qtest.echo", ({"i": i} for i in range(1000)), chunk=400)
    assert evalsha_calls(client) - before == 3
    assert fetch_ids(queue, 1001) == first + ids


def test_enqueue_many_caps_wake_tokens(queue: Queue, client: redis.Redis) -> None:
    queue.enqueue_many("qtest.echo", [{}] * 3)
    assert client.llen(queue.keys.wake) == 3
    queue.enqueue_many("qtest.echo", [{}] * (WAKE_CAP * 3))
    assert WAKE_CAP <= client.llen(queue.keys.wake) <= WAKE_CAP * 2


def test_enqueue_call_dedupes_unique_keys(queue: Queue) -> None:
    groups = [
        queue._enqueue_args("qtest.echo", {"n": n}, unique_key="inbox/a.csv")
        for n in range(2)
    ]
    ids = queue._run(queue._enqueue_many_call(groups))
    assert ids == [groups[0][0], groups[0][0]]
    assert queue.counts()["queued"] == 1


@pytest.mark.asyncio
async def test_async_enqueue_many_order(server: EmbeddedRedis) -> None:
    queue = AsyncQueue.from_url(server.url, "test")
    try:
        ids = await queue.enqueue_many(
            "qtest.echo", [{"i": i} for i in range(5)], chunk=2
        )
        sync = Queue.from_url(server.url, "test")
        assert fetch_ids(sync, 10) == ids
    finally:
        await queue.client.aclose()
