"""Tests of the ``sentinel queue`` and ``sentinel redis`` commands on a real server."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from click.testing import CliRunner

from sentinel.queue import EmbeddedRedis, Queue, QueueError
from sentinel.queue._cli import group as queue_group
from sentinel.queue._redis_cli import group as redis_group


@pytest.fixture
def cli_env(server: EmbeddedRedis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTINEL__QUEUE__URL", server.url)
    monkeypatch.setenv("SENTINEL__QUEUE__NAME", "test")
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    monkeypatch.delenv("SENTINEL_ENV", raising=False)


def run(group: Any, *args: str) -> str:
    result = CliRunner().invoke(group, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def run_json(group: Any, *args: str) -> Any:
    return json.loads(run(group, *args, "--json"))


def failed_job(queue: Queue) -> str:
    job_id = queue.enqueue("qtest.fail", {}, max_retries=0)
    job = queue.fetch_many("w1", 1)[0]
    assert queue.fail(job, "RuntimeError: broke", None) == "failed"
    return job_id


@pytest.mark.usefixtures("cli_env")
def test_status_shows_active_jobs(queue: Queue) -> None:
    running = queue.enqueue("qtest.echo", {"n": 1})
    queue.enqueue("qtest.echo", {"n": 2})
    queue.fetch_many("worker-a", 1)
    report = run_json(queue_group, "status")
    assert report["counts"]["active"] == 1
    assert [job["id"] for job in report["active"]] == [running]
    assert report["active"][0]["worker"] == "worker-a"
    text = run(queue_group, "status")
    assert f"active {running} qtest.echo on worker-a, attempt 1/3" in text


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("queued", 5),
        ("active", 2),
        ("delayed", 1),
        ("done", 1),
        ("failed", 1),
        ("cancelled", 1),
    ],
    ids=["queued", "active", "delayed", "done", "failed", "cancelled"],
)
def test_jobs_filters_by_state(queue: Queue, state: str, expected: int) -> None:
    failed_job(queue)
    queue.cancel(queue.enqueue("qtest.echo", {}))
    done = queue.enqueue("qtest.echo", {})
    queue.finish(queue.fetch_many("w1", 1)[0], "ok")
    assert queue.get(done) is not None
    queue.enqueue("qtest.echo", {}, delay=60)
    for n in range(7):
        queue.enqueue("qtest.echo", {"n": n})
    queue.fetch_many("w1", 2)
    records = run_json(queue_group, "jobs", "--state", state, "--limit", "50")
    assert len(records) == expected
    assert {record["state"] for record in records} == {state}


@pytest.mark.usefixtures("cli_env")
def test_jobs_pages_in_run_order(queue: Queue) -> None:
    ids = [queue.enqueue("qtest.echo", {"n": n}) for n in range(5)]
    pages = [
        [
            job["id"]
            for job in run_json(queue_group, "jobs", "--limit", "2", "--page", p)
        ]
        for p in ("1", "2", "3", "4")
    ]
    assert pages == [ids[0:2], ids[2:4], ids[4:5], []]
    assert "no queued jobs on page 4" in run(
        queue_group, "jobs", "--limit", "2", "--page", "4"
    )
    line = run(queue_group, "jobs", "--limit", "1").strip()
    assert line.startswith(f"{ids[0]}  queued")


@pytest.mark.usefixtures("cli_env")
def test_requeue_queues_failed_job_with_fresh_attempts(queue: Queue) -> None:
    job_id = failed_job(queue)
    output = run(queue_group, "requeue", job_id)
    assert output.strip() == f"requeued {job_id}"
    record = queue.get(job_id)
    assert record is not None
    assert (record["state"], record["attempts"], record["error"]) == ("queued", 0, None)
    again = CliRunner().invoke(queue_group, ["requeue", job_id, "nosuchjob"])
    assert again.exit_code == 1
    assert "not failed or cancelled (or unknown): " in again.output
    assert "nosuchjob" in again.output


@pytest.mark.usefixtures("cli_env")
def test_cancel_queued_and_running_jobs(queue: Queue) -> None:
    running = queue.enqueue("qtest.echo", {})
    queue.fetch_many("w1", 1)
    waiting = queue.enqueue("qtest.echo", {})
    output = run(queue_group, "cancel", waiting, running)
    assert output.splitlines() == [f"{waiting} cancelled", f"{running} cancelling"]
    assert (queue.get(waiting) or {})["state"] == "cancelled"
    assert (queue.get(running) or {})["cancel_requested"] is True


@pytest.mark.usefixtures("cli_env")
def test_cancel_unknown_id_exits_nonzero(queue: Queue) -> None:
    waiting = queue.enqueue("qtest.echo", {})
    result = CliRunner().invoke(
        queue_group, ["cancel", "nosuchjob", waiting], catch_exceptions=False
    )
    assert result.exit_code == 1
    assert "nosuchjob unknown" in result.output
    assert f"{waiting} cancelled" in result.output
    assert "job not found: nosuchjob;" in result.output
    assert (queue.get(waiting) or {})["state"] == "cancelled"


@pytest.mark.usefixtures("cli_env")
def test_failed_rows_escape_newlines(queue: Queue) -> None:
    error = "ValueError: bad file 'a\nfake'"
    job_id = queue.enqueue("qtest.fail", {}, max_retries=0)
    job = queue.fetch_many("w1", 1)[0]
    assert queue.fail(job, error, None) == "failed"

    rows = run(queue_group, "jobs", "--state", "failed").splitlines()
    assert len(rows) == 1
    assert rows[0].startswith(f"{job_id}  failed")
    assert rows[0].endswith(repr(error))
    status = run(queue_group, "status").splitlines()
    assert f"failed {job_id} qtest.fail: {error!r}" in status
    assert run_json(queue_group, "jobs", "--state", "failed")[0]["error"] == error


@pytest.mark.usefixtures("cli_env")
def test_purge_deletes_one_state_only(queue: Queue) -> None:
    failed = failed_job(queue)
    queued = [queue.enqueue("qtest.echo", {"n": n}) for n in range(3)]
    refused = CliRunner().invoke(queue_group, ["purge", "queued"], input="n\n")
    assert refused.exit_code == 1
    assert queue.counts()["queued"] == 3
    output = run(queue_group, "purge", "queued", "--yes")
    assert output.strip() == "deleted 3 queued jobs"
    assert queue.counts()["queued"] == 0
    assert all(queue.get(job_id) is None for job_id in queued)
    assert (queue.get(failed) or {})["state"] == "failed"
    unknown = CliRunner().invoke(queue_group, ["purge", "active", "--yes"])
    assert unknown.exit_code == 2


def done_jobs(queue: Queue, count: int) -> None:
    for n in range(count):
        queue.enqueue("qtest.echo", {"n": n})
    for job in queue.fetch_many("w1", count):
        assert queue.finish(job, "ok")


def status_lines(text: str) -> dict[str, list[tuple[str, str]]]:
    """Split plain status output into its sections of (state, count) rows."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("  "):
            state, count = line.split()
            current.append((state, count))
        elif line.endswith(":"):
            current = sections.setdefault(line, [])
    return sections


@pytest.mark.usefixtures("cli_env")
def test_status_after_purge_shows_stored_and_ever(queue: Queue) -> None:
    done_jobs(queue, 4)

    assert run(queue_group, "purge", "done", "--yes").strip() == "deleted 4 done jobs"
    report = run_json(queue_group, "status")
    sections = status_lines(run(queue_group, "status"))

    assert report["now"]["done"] == 0
    assert report["ever"]["done"] == 4
    assert report["counts"]["done"] == 4
    assert ("done", "0") in sections["jobs stored now:"]
    assert ("done", "4") in sections["jobs finished since the queue was created:"]


@pytest.mark.usefixtures("cli_env")
def test_status_counts_align(queue: Queue) -> None:
    queue.cancel(queue.enqueue("qtest.echo", {}))

    text = run(queue_group, "status")
    rows = [line for line in text.splitlines() if line.startswith("  ")]
    columns = {len(line) - len(line.split()[-1]) for line in rows}

    assert len(rows) == 9
    assert "  cancelled  1" in rows
    assert len(columns) == 1


@pytest.mark.usefixtures("cli_env")
def test_status_stored_counts_skip_expired(queue: Queue, client: redis.Redis) -> None:
    done_jobs(queue, 2)
    (expired, _) = [job["id"] for job in queue.jobs("done")]
    client.hdel(queue.keys.status, expired)

    report = run_json(queue_group, "status")

    assert report["now"]["done"] == 1
    assert report["ever"]["done"] == 2


@pytest.mark.usefixtures("cli_env")
def test_purge_one_job_says_job(queue: Queue) -> None:
    queue.enqueue("qtest.echo", {}, delay=60)

    output = run(queue_group, "purge", "delayed", "--yes")

    assert output.strip() == "deleted 1 delayed job"


@pytest.mark.usefixtures("cli_env")
def test_purge_cancelled_jobs(queue: Queue) -> None:
    cancelled = queue.enqueue("qtest.echo", {})
    queue.cancel(cancelled)
    kept = queue.enqueue("qtest.echo", {})

    output = run(queue_group, "purge", "cancelled", "--yes")

    assert output.strip() == "deleted 1 cancelled job"
    assert queue.get(cancelled) is None
    assert (queue.get(kept) or {})["state"] == "queued"
    assert run_json(queue_group, "jobs", "--state", "cancelled") == []


@pytest.mark.usefixtures("cli_env")
def test_requeue_cancelled_leaves_cancelled_list(queue: Queue) -> None:
    job_id = queue.enqueue("qtest.echo", {})
    queue.cancel(job_id)

    run(queue_group, "requeue", job_id)

    assert run_json(queue_group, "jobs", "--state", "cancelled") == []
    assert (queue.get(job_id) or {})["state"] == "queued"


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("files.proces", "did you mean 'files.process'"),
        ("no.such.task", "registered tasks: "),
    ],
    ids=["close-name", "no-close-name"],
)
def test_enqueue_rejects_unknown_task(queue: Queue, task: str, expected: str) -> None:
    result = CliRunner().invoke(queue_group, ["enqueue", task])

    assert result.exit_code == 2
    assert f"task {task!r} is not registered" in result.output
    assert expected in result.output
    assert "--force" in result.output
    assert queue.counts()["queued"] == 0


@pytest.mark.usefixtures("cli_env")
def test_enqueue_force_accepts_unknown_task(queue: Queue) -> None:
    job_id = run(queue_group, "enqueue", "no.such.task", "--force").strip()

    record = queue.get(job_id)
    assert record is not None
    assert record["task"] == "no.such.task"


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--delay", "inf", "'inf' is not a finite number"),
        ("--delay", "nan", "'nan' is not a finite number"),
        ("--delay", "-1", "-1.0 is not in the range x>=0"),
        ("--timeout", "inf", "'inf' is not a finite number"),
        ("--timeout", "nan", "'nan' is not a finite number"),
    ],
    ids=["delay-inf", "delay-nan", "delay-negative", "timeout-inf", "timeout-nan"],
)
def test_enqueue_rejects_nonfinite_seconds(
    queue: Queue, option: str, value: str, expected: str
) -> None:
    result = CliRunner().invoke(
        queue_group, ["enqueue", "--force", option, value, "x.y"]
    )
    assert result.exit_code == 2
    assert option in result.output
    assert expected in result.output
    assert queue.counts()["queued"] == 0
    assert queue.counts()["delayed"] == 0


@pytest.mark.parametrize("weight", ["inf", "nan", "0", "-2"])
def test_worker_rejects_bad_queue_weight(weight: str) -> None:
    # One process, so the option is parsed in this process before any
    # connection; without a server URL a missed check exits 1 at once.
    args = ["worker", "--workers", "1", "--queue", f"a:{weight}"]
    result = CliRunner().invoke(queue_group, args)
    assert result.exit_code == 2
    assert f"'a:{weight}' is not NAME or NAME:WEIGHT" in result.output


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"delay": float("inf")}, "delay is inf"),
        ({"delay": float("nan")}, "delay is nan"),
        ({"delay": -1.0}, "delay is -1.0"),
        ({"timeout": float("inf")}, "timeout is inf"),
        ({"timeout": float("nan")}, "timeout is nan"),
    ],
    ids=["delay-inf", "delay-nan", "delay-negative", "timeout-inf", "timeout-nan"],
)
def test_queue_enqueue_rejects_nonfinite(
    queue: Queue, options: dict[str, float], expected: str
) -> None:
    with pytest.raises(QueueError, match=expected):
        queue.enqueue("qtest.echo", {}, **options)
    assert queue.counts()["queued"] == 0
    assert queue.counts()["delayed"] == 0


def commandstats(client: redis.Redis) -> dict[str, Any]:
    return {
        name.removeprefix("cmdstat_"): value
        for name, value in client.info("commandstats").items()
    }


@pytest.mark.usefixtures("cli_env")
def test_redis_commands_scan_and_never_call_keys(
    queue: Queue, client: redis.Redis
) -> None:
    Queue(client, "other").enqueue("qtest.echo", {})
    for n in range(3):
        queue.enqueue("qtest.echo", {"n": n})
    client.set("unrelated", "x")
    client.config_resetstat()

    info = run_json(redis_group, "info")
    assert info["keys"] == client.dbsize()
    assert info["version"]
    keys = run_json(redis_group, "keys", "--match", "sentinel:{test}:*")
    assert {row["key"] for row in keys} >= {
        "sentinel:{test}:queued",
        "sentinel:{test}:jobs",
    }
    by_key = {row["key"]: row for row in keys}
    assert by_key["sentinel:{test}:queued"] == {
        "key": "sentinel:{test}:queued",
        "type": "zset",
        "size": 3,
    }
    hashes = run_json(redis_group, "keys", "--type", "hash", "--limit", "1")
    assert len(hashes) == 1
    assert hashes[0]["type"] == "hash"
    queues = run_json(redis_group, "queues")
    assert set(queues) == {"test", "other"}
    assert queues["test"]["queued"] == 3
    assert queues["other"]["queued"] == 1

    stats = commandstats(client)
    assert "scan" in stats
    assert "keys" not in stats
    clients = client.client_list()
    assert all(entry.get("cmd") != "keys" for entry in clients)
