"""Tests of worker processes that run several jobs at a time, one thread each."""

from __future__ import annotations

import importlib
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from sentinel.core import Agent, ConfigError, PluginHost, bootstrap
from sentinel.queue import EmbeddedRedis, Queue, plugin
from sentinel.queue._cli import group
from sentinel.queue._pool import worker_command as pool_worker_command
from sentinel.queue._threads import MAX_THREADS, WorkerThreads, threads_setting
from sentinel.queue._worker import Worker

PLUGIN_DIR = Path(__file__).parent / "plugins"
THREAD_PLUGINS = "qtest=queue_test_tasks,qthreads=queue_thread_tasks"


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def starts(log: Path) -> Counter[str]:
    return Counter(line.split()[1] for line in lines(log) if line.startswith("start"))


@pytest.fixture
def thread_tasks(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    module = importlib.import_module("queue_thread_tasks")
    module.RUNNING.update(now=0, max=0)
    return module


@pytest.fixture
def thread_host(host: PluginHost, thread_tasks: ModuleType) -> PluginHost:
    host.register_module("qthreads", thread_tasks)
    return host


def run_threads(queue: Queue, host: PluginHost, count: int) -> WorkerThreads:
    def make_worker(index: int) -> Worker:
        return Worker(queue, host.registry, name=f"w-t{index + 1}", retry_backoff=0.01)

    threads = WorkerThreads(make_worker, count, burst=True)
    assert threads.run() == 0
    return threads


def test_threads_run_jobs_at_once(
    queue: Queue, thread_host: PluginHost, thread_tasks: ModuleType
) -> None:
    ids = [
        queue.enqueue("qthreads.overlap", {"target": 4, "wait": 10}) for _ in range(12)
    ]
    run_threads(queue, thread_host, 4)
    assert thread_tasks.RUNNING["max"] == 4
    for job_id in ids:
        record = queue.get(job_id)
        assert record is not None
        assert record["state"] == "done"
        assert record["attempts"] == 1


def test_threads_one_loop_runs_one_job_at_once(
    queue: Queue, thread_host: PluginHost, thread_tasks: ModuleType
) -> None:
    queue.enqueue("qthreads.overlap", {"target": 2, "wait": 0.2})
    queue.enqueue("qthreads.overlap", {"target": 2, "wait": 0.2})
    run_threads(queue, thread_host, 1)
    assert thread_tasks.RUNNING["max"] == 1


def test_threads_timeout_interrupts_python_loop(
    queue: Queue, thread_host: PluginHost, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    slow = queue.enqueue(
        "qthreads.spin", {"log": str(log), "seconds": 30}, max_retries=0, timeout=0.3
    )
    quick = queue.enqueue("qtest.echo", {"n": 1})
    run_threads(queue, thread_host, 2)
    record = queue.get(slow)
    assert record is not None
    assert record["state"] == "failed"
    assert record["attempts"] == 1
    assert "JobTimeoutError" in record["error"]
    assert "ran longer than its timeout of 0.3 s" in record["error"]
    assert lines(log) == [f"start {slow} 1"]
    assert (queue.get(quick) or {}).get("state") == "done"


def test_threads_loop_that_raises_is_restarted(
    queue: Queue, thread_host: PluginHost
) -> None:
    built: list[int] = []

    class BrokenOnce(Worker):
        def work_once(self) -> bool:
            if len(built) == 1:
                raise RuntimeError("broken loop")
            return super().work_once()

    def make_worker(index: int) -> Worker:
        built.append(index)
        return BrokenOnce(queue, thread_host.registry, name=f"w-t{index + 1}")

    job_id = queue.enqueue("qtest.echo", {"n": 1})
    threads = WorkerThreads(make_worker, 1, burst=True, restart_delay=0.05)
    assert threads.run() == 0
    assert threads.restarts == 1
    assert built == [0, 0]
    assert (queue.get(job_id) or {}).get("state") == "done"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 1), (1, 1), (8, 8), (MAX_THREADS, MAX_THREADS)],
    ids=["unset", "one", "eight", "maximum"],
)
def test_threads_setting_accepts_range(value: object, expected: int) -> None:
    assert threads_setting(value) == expected


@pytest.mark.parametrize(
    "value",
    [0, -2, MAX_THREADS + 1, True, "4", 2.5],
    ids=["zero", "negative", "above-maximum", "bool", "string", "float"],
)
def test_threads_setting_rejects_value(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        threads_setting(value)
    message = str(caught.value)
    assert f"queue.threads is {value!r}" in message
    assert f"from 1 to {MAX_THREADS}" in message


def test_threads_config_key_out_of_range_fails_cli(
    server: EmbeddedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTINEL__QUEUE__URL", server.url)
    monkeypatch.setenv("SENTINEL__QUEUE__THREADS", "300")
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    monkeypatch.delenv("SENTINEL_ENV", raising=False)
    result = CliRunner().invoke(group, ["worker", "--workers", "1"])
    assert result.exit_code == 1
    assert "SENTINEL__QUEUE__THREADS: key 'queue.threads' has value 300" in (
        result.output
    )
    assert "expected an integer from 1 to 256" in result.output
    assert "Traceback" not in result.output


def test_threads_option_out_of_range_fails_cli(
    server: EmbeddedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTINEL__QUEUE__URL", server.url)
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    result = CliRunner().invoke(group, ["worker", "--threads", "0"])
    assert result.exit_code == 2
    assert "--threads" in result.output
    assert "1<=x<=256" in result.output


def test_threads_startup_rejects_config_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SENTINEL__QUEUE__URL", raising=False)
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    host, config = bootstrap()
    # Loading rejects 0 first; this checks the plugin's own check behind it.
    config.values["queue"]["threads"] = 0
    agent = Agent(config, host, tmp_path)
    with pytest.raises(ConfigError, match=r"queue\.threads is 0; expected"):
        plugin.sentinel_startup(agent)
    plugin.sentinel_shutdown(agent)


def test_threads_pool_command_passes_option() -> None:
    command = pool_worker_command(threads=4, queue="jobs")
    assert command[-4:] == ["--threads", "4", "--queue", "jobs"]
    assert "--threads" not in pool_worker_command()


class ThreadedWorkers:
    """Worker processes of the CLI that the tests start, kill and signal."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.command, self.env, self.cwd = command, env, cwd
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [*self.command, *args],
            env={**self.env, **env},
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            if process.stdout is not None and not process.stdout.closed:
                process.communicate()
            process.wait()


@pytest.fixture
def processes(
    server: EmbeddedRedis,
    tmp_path: Path,
    worker_command: list[str],
    make_worker_env: Callable[..., dict[str, str]],
) -> Iterator[ThreadedWorkers]:
    env = make_worker_env(server.url, SENTINEL_EXTRA_PLUGINS=THREAD_PLUGINS)
    started = ThreadedWorkers(worker_command, env, tmp_path)
    yield started
    started.stop_all()


def test_threads_sigkill_keeps_attempts_exact(
    queue: Queue, processes: ThreadedWorkers, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    flaky = queue.enqueue("qtest.flaky", {"log": str(log), "hang_on": 2}, max_retries=3)
    others = [
        queue.enqueue("qtest.record", {"log": str(log), "sleep": 30}) for _ in range(2)
    ]
    victim = processes.start("--threads", "4")
    wait_for(lambda: starts(log)[flaky] == 2 and len(starts(log)) == 3)
    victim.kill()
    victim.communicate()
    # The jobs that were running come back once their leases expire.
    second = processes.start("--threads", "4")
    wait_for(lambda: (queue.get(flaky) or {}).get("state") == "failed")
    record = queue.get(flaky)
    assert record is not None
    assert record["attempts"] == 4
    assert starts(log)[flaky] == 4
    for job_id in others:
        wait_for(lambda job_id=job_id: starts(log)[job_id] == 2)
        assert (queue.get(job_id) or {}).get("attempts") == 2
    second.kill()


def test_threads_sigterm_finishes_running_hands_back_rest(
    queue: Queue, processes: ThreadedWorkers, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    running = [
        queue.enqueue("qtest.record", {"log": str(log), "sleep": 1.0}) for _ in range(2)
    ]
    waiting = [queue.enqueue("qtest.record", {"log": str(log)}) for _ in range(6)]
    process = processes.start(SENTINEL__QUEUE__THREADS="2")
    wait_for(lambda: all(starts(log)[job_id] for job_id in running))
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "SIGTERM received; handing back unstarted jobs" in output
    assert output.count("stopped after") == 2, output
    for job_id in running:
        record = queue.get(job_id)
        assert record is not None
        assert record["state"] == "done"
        assert record["attempts"] == 1
    assert queue.counts()["active"] == 0
    for job_id in waiting:
        record = queue.get(job_id)
        assert record is not None
        assert record["state"] in {"queued", "done"}
        assert record["attempts"] == (1 if record["state"] == "done" else 0)


def test_threads_grace_exceeded_exits_once(
    queue: Queue, processes: ThreadedWorkers, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    ids = [
        queue.enqueue("qtest.record", {"log": str(log), "sleep": 60}) for _ in range(2)
    ]
    process = processes.start("--threads", "2", SENTINEL__QUEUE__SHUTDOWN_GRACE="0.3")
    wait_for(lambda: len(starts(log)) == 2)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 1, output
    assert output.count("still running after the 0 s grace period") == 2, output
    for job_id in ids:
        record = queue.get(job_id)
        assert record is not None
        assert record["state"] == "queued"
        assert record["attempts"] == 0


def test_threads_pool_passes_threads_to_processes(
    queue: Queue, processes: ThreadedWorkers, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    ids = [
        queue.enqueue("qthreads.overlap", {"target": 3, "wait": 2, "log": str(log)})
        for _ in range(12)
    ]
    # The option given last wins, so this runs two processes of three loops.
    pool = processes.start("--workers", "2", "--threads", "3")
    wait_for(lambda: queue.counts()["done"] == len(ids))
    pool.send_signal(signal.SIGTERM)
    output, _ = pool.communicate(timeout=30)
    assert pool.returncode == 0, output
    ends = [line.split() for line in lines(log) if line.startswith("end")]
    peak_by_pid: dict[str, int] = {}
    for _, _, pid, seen in ends:
        peak_by_pid[pid] = max(peak_by_pid.get(pid, 0), int(seen))
    assert "worker process 1 started" in output, output
    # A process of one loop would never see two of its jobs overlap.
    assert max(peak_by_pid.values()) == 3, peak_by_pid
    assert all(peak <= 3 for peak in peak_by_pid.values()), peak_by_pid


def test_threads_second_signal_hands_back_all(
    queue: Queue, processes: ThreadedWorkers, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    ids = [
        queue.enqueue("qtest.record", {"log": str(log), "sleep": 60}) for _ in range(3)
    ]
    process = processes.start("--threads", "3")
    wait_for(lambda: len(starts(log)) == 3)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGINT, output
    assert "second SIGINT; exiting at once" in output
    for job_id in ids:
        record = queue.get(job_id)
        assert record is not None
        assert record["state"] == "queued"
        assert record["attempts"] == 0
