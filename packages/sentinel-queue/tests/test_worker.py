"""Tests of Worker running registered tasks in this process."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
import redis

from sentinel.core import PluginHost
from sentinel.queue import Queue
from sentinel.queue._worker import Worker, retry_delay


def run_burst(queue: Queue, host: PluginHost, **options: float) -> Worker:
    worker = Worker(queue, host.registry, name="w-test", config={"k": 1}, **options)
    worker.run(burst=True)
    return worker


def attempts_logged(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines()


def test_worker_runs_task_to_done(queue: Queue, host: PluginHost) -> None:
    job_id = queue.enqueue("qtest.echo", {"x": 1})
    worker = run_burst(queue, host)
    assert worker.jobs_run == 1
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "done"
    assert record["result"] == {"payload": {"x": 1}, "attempt": 1, "task": "qtest.echo"}


def test_worker_retries_then_fails(
    client: redis.Redis, host: PluginHost, tmp_path: Path
) -> None:
    queue = Queue(client, "retry", max_retries=3)
    log = tmp_path / "runs.log"
    job_id = queue.enqueue("qtest.fail", {"log": str(log)})
    run_burst_until_idle(queue, host)
    assert attempts_logged(log) == [f"{job_id} {n}" for n in (1, 2, 3, 4)]
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "failed"
    assert record["attempts"] == 4
    assert record["max_attempts"] == 4
    assert record["error"] == "RuntimeError: attempt 4 broke"


def run_burst_until_idle(queue: Queue, host: PluginHost) -> None:
    # Burst mode stops when nothing is queued, while retries wait in the
    # delayed set, so run bursts until no job is left unfinished.
    while True:
        run_burst(queue, host, retry_backoff=0.01)
        counts = queue.counts()
        if not counts["queued"] and not counts["delayed"] and not counts["active"]:
            return


def test_worker_permanent_error_skips_retries(
    queue: Queue, host: PluginHost, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    job_id = queue.enqueue("qtest.permanent", {"log": str(log), "value": "x"})
    run_burst_until_idle(queue, host)
    assert attempts_logged(log) == [f"{job_id} 1"]
    record = queue.get(job_id)
    assert record is not None
    assert record["state"] == "failed"
    assert record["attempts"] == 1
    assert record["error"] == "PermanentTaskError: bad input 'x'"


@pytest.mark.parametrize(
    ("task", "error"),
    [
        ("qtest.missing", "UnknownTypeError: no plugin provides"),
        ("qtest.unserialisable", "JobEncodingError: result of job"),
    ],
    ids=["unknown-task", "result-not-json"],
)
def test_worker_fails_job_without_retry(
    queue: Queue, host: PluginHost, task: str, error: str
) -> None:
    job_id = queue.enqueue(task, {})
    run_burst_until_idle(queue, host)
    record = queue.get(job_id)
    assert record is not None
    assert record["attempts"] == 1
    assert record["error"].startswith(error)


def test_worker_context_call_runs_nested_task(queue: Queue, host: PluginHost) -> None:
    job_id = queue.enqueue("qtest.nested", {"value": 7})
    run_burst(queue, host)
    record = queue.get(job_id)
    assert record is not None
    assert record["result"] == {
        "payload": {"inner": 7},
        "attempt": 1,
        "task": "qtest.echo",
    }


def test_worker_logs_with_name_and_job_id(
    queue: Queue, host: PluginHost, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sentinel.queue")
    done_id = queue.enqueue("qtest.echo", {})
    failed_id = queue.enqueue("qtest.permanent", {"log": str(tmp_path / "log")})
    run_burst(queue, host)
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert ("INFO", "worker w-test started on queue test") in messages
    assert ("INFO", "worker w-test stopped after 2 jobs") in messages
    assert ("DEBUG", f"worker w-test: job {done_id} done") in messages
    errors = [text for level, text in messages if level == "ERROR"]
    assert len(errors) == 1
    assert errors[0].startswith(f"worker w-test: job {failed_id} failed without retry")
    error_records = [r for r in caplog.records if r.levelname == "ERROR"]
    assert error_records[0].exc_info is None


def test_worker_log_escapes_newline(
    queue: Queue, host: PluginHost, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sentinel.queue")
    message = "cannot read 'a\nworker w-test: job 1 done.csv'"
    job_id = queue.enqueue("qtest.reject", {"message": message})
    run_burst(queue, host)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "\n" not in errors[0]
    assert errors[0].startswith(f"worker w-test: job {job_id} failed without retry")
    assert repr(f"PermanentTaskError: {message}") in errors[0]


@pytest.mark.parametrize("attempt", [1, 2, 5, 30])
def test_retry_delay_grows_with_jitter(attempt: int) -> None:
    delays = [retry_delay(attempt, 1.0, cap=60.0) for _ in range(50)]
    upper = min(60.0, 2.0 ** (attempt - 1))
    assert all(upper * 0.5 <= delay <= upper for delay in delays)
    assert len(set(delays)) > 1


class _RecordingEvent(threading.Event):
    """A stop event that records the timeouts the worker waits for."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return super().wait(timeout)


def _trickle(queue: Queue, count: int) -> list[str]:
    ids = []
    for index in range(count):
        ids.append(queue.enqueue("qtest.echo", {"i": index}))
        time.sleep(0.001)
    return ids


@pytest.mark.parametrize("linger", [0.0, 0.005])
def test_worker_lingers_after_short_fetch(
    queue: Queue, host: PluginHost, linger: float
) -> None:
    worker = Worker(queue, host.registry, name="w-linger", fetch_linger=linger)
    stop = _RecordingEvent()
    worker._stop = stop
    # Two jobs but a batch of one for the first fetch, then a short fetch:
    # the fetch after it waits first when lingering is on.
    queue.enqueue("qtest.echo", {"i": 0})
    queue.enqueue("qtest.echo", {"i": 1})
    worker.run(burst=True)
    assert worker.jobs_run == 2
    lingered = [timeout for timeout in stop.waits if timeout == linger]
    assert bool(lingered) is (linger > 0)


def test_worker_batches_trickling_jobs_with_exact_attempts(
    queue: Queue, host: PluginHost
) -> None:
    worker = Worker(queue, host.registry, name="w-trickle", fetch_linger=0.01)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        ids = _trickle(queue, 60)
        deadline = time.monotonic() + 20
        while queue.counts()["done"] < len(ids):
            assert time.monotonic() < deadline, queue.counts()
            time.sleep(0.02)
    finally:
        worker.stop()
        thread.join(30)
    for job_id in ids:
        record = queue.get(job_id)
        assert record is not None
        assert record["state"] == "done"
        assert record["attempts"] == 1


@pytest.mark.parametrize("linger", [-0.001, 0.5])
def test_worker_rejects_fetch_linger_out_of_bounds(
    queue: Queue, host: PluginHost, linger: float
) -> None:
    with pytest.raises(ValueError, match="fetch_linger"):
        Worker(queue, host.registry, fetch_linger=linger)
