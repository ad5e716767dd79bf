"""Run one queue system's workers, time a workload and count its Redis commands."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import redis

SYSTEMS_DIR = Path(__file__).resolve().parent / "systems"
WORKLOADS = ("noop", "sleep")
WORKERS = 2
POLL_SECONDS = 0.005
WARMUP_BATCH = 10
WARMUP_SECONDS = 60.0
STOP_SECONDS = 10.0


class BenchmarkError(Exception):
    """A system could not run a workload; the message says why."""


@dataclass
class Result:
    """The measurements of one system on one workload."""

    system: str
    workload: str
    jobs: int = 0
    seconds: float = 0.0
    enqueue_seconds: float = 0.0
    calls: int = 0
    reads: int = 0
    monitor_jobs: int = 0
    client_commands: int = 0
    script_commands: int = 0
    error: str = ""
    jobs_at_a_time: int = 1
    commands: dict[str, int] = field(default_factory=dict)

    @property
    def jobs_per_second(self) -> float:
        """Jobs finished per second of wall time, from first enqueue to last finish."""
        return self.jobs / self.seconds if self.seconds else 0.0

    @property
    def calls_per_job(self) -> float:
        """Redis command calls per job, commands run inside scripts included."""
        return self.calls / self.jobs if self.jobs else 0.0

    @property
    def reads_per_job(self) -> float:
        """Socket reads of client requests per job; a pipeline is usually one read."""
        return self.reads / self.jobs if self.jobs else 0.0

    @property
    def client_commands_per_job(self) -> float:
        """Commands that clients sent per job, commands run inside scripts excluded."""
        return self.client_commands / self.monitor_jobs if self.monitor_jobs else 0.0


def load_system(name: str) -> ModuleType:
    """Import the benchmark module of system ``name`` from the systems folder."""
    if str(SYSTEMS_DIR) not in sys.path:
        sys.path.insert(0, str(SYSTEMS_DIR))
    return importlib.import_module(f"bench_{name}")


class DoneCounter:
    """Read how many jobs each worker process has finished, from the done folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def per_process(self) -> dict[str, int]:
        """Return finished jobs by worker process id."""
        return {entry.name: entry.stat().st_size for entry in os.scandir(self.folder)}

    def total(self) -> int:
        """Return the number of finished jobs of every process."""
        return sum(self.per_process().values())


class Workers:
    """Start the worker processes of one system and stop them with their children."""

    def __init__(self, system: ModuleType, url: str, env: dict[str, str], logs: Path):
        self.system = system
        self.url = url
        self.env = {**env, **system.worker_env(url)}
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> None:
        """Start ``count`` worker processes, each in a session of its own."""
        for index in range(count):
            log = self.logs / f"worker-{index}.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    self.system.worker_command(index, self.url),
                    env=self.env,
                    cwd=self.logs,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            self.processes.append(process)

    def check_alive(self) -> None:
        """Raise when a worker process exited, with the end of its log."""
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                raise BenchmarkError(
                    f"worker {index} exited with code {process.returncode}: "
                    f"{self.log_tail(index)}"
                )

    def log_tail(self, index: int, lines: int = 5) -> str:
        """Return the last lines of the log of worker ``index`` on one line."""
        path = self.logs / f"worker-{index}.log"
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "(empty log)"

    def stop(self) -> None:
        """Send SIGTERM to each worker's process group, then SIGKILL what remains."""
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            # Children that outlive their parent (prefork pools) die with the group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()


class CommandMonitor(threading.Thread):
    """Count commands between two markers in the server's MONITOR stream.

    MONITOR tags commands that a Lua script runs with the client ``lua``,
    which tells the commands a client sent apart from those run by scripts.
    """

    def __init__(self, url: str) -> None:
        super().__init__(name="command-monitor", daemon=True)
        self.marker = f"queue-bench-{uuid.uuid4().hex}"
        self.client = redis.Redis.from_url(url)
        self.monitor = self.client.monitor()
        self.client_commands = 0
        self.script_commands = 0
        self.ready = threading.Event()
        self.finished = threading.Event()

    def run(self) -> None:
        with self.monitor as stream:
            self.ready.set()
            counting = False
            for command in stream.listen():
                text = command["command"]
                if text == f"ECHO {self.marker}":
                    if counting:
                        break
                    counting = True
                elif counting and command.get("client_type") == "lua":
                    self.script_commands += 1
                elif counting:
                    self.client_commands += 1
        self.finished.set()

    def mark(self, admin: redis.Redis) -> None:
        """Send the marker that starts or ends the counted stretch."""
        admin.echo(self.marker)


class Bench:
    """Measure the systems one after another on one Redis server."""

    def __init__(
        self, url: str, workdir: Path, timeout: float, concurrency: int | None
    ) -> None:
        self.url = url
        self.workdir = workdir
        self.timeout = timeout
        self.concurrency = concurrency
        self.admin = redis.Redis.from_url(url, decode_responses=True)
        self.env = self._worker_env()

    def _worker_env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("SENTINEL_CONFIG", "SENTINEL_ENV"):
            env.pop(name, None)
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(SYSTEMS_DIR), env.get("PYTHONPATH", "")) if part
        )
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("QUEUE_BENCH_CONCURRENCY", None)
        os.environ.pop("QUEUE_BENCH_CONCURRENCY", None)
        if self.concurrency:
            # Worker commands are built in this process, so it needs the
            # setting as much as the workers do.
            env["QUEUE_BENCH_CONCURRENCY"] = str(self.concurrency)
            os.environ["QUEUE_BENCH_CONCURRENCY"] = str(self.concurrency)
        return env

    def measure(self, name: str, workload: str, jobs: int, monitor_jobs: int) -> Result:
        """Run ``jobs`` jobs of ``workload`` on system ``name`` with fresh workers."""
        result = Result(name, workload)
        folder = self.workdir / f"{name}-{workload}"
        done_dir = folder / "done"
        done_dir.mkdir(parents=True)
        env = {**self.env, "QUEUE_BENCH_DONE_DIR": str(done_dir)}
        os.environ["QUEUE_BENCH_DONE_DIR"] = str(done_dir)
        try:
            system = load_system(name)
        except ImportError as exc:
            result.error = f"cannot import: {exc}"
            return result
        result.jobs_at_a_time = system.jobs_at_a_time(self.concurrency)
        self.admin.flushall()
        workers = Workers(system, self.url, env, folder)
        producer = None
        try:
            producer = system.Producer(self.url)
            workers.start(WORKERS)
            counter = DoneCounter(done_dir)
            self._warm_up(producer, workers, counter)
            self._timed_run(
                producer, workers, counter, workload=workload, jobs=jobs, result=result
            )
            if monitor_jobs:
                self._monitor_run(
                    producer,
                    workers,
                    counter,
                    workload=workload,
                    jobs=monitor_jobs,
                    result=result,
                )
        except Exception as exc:  # noqa: BLE001 - one failing system must not end the run
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            if producer is not None:
                with contextlib.suppress(Exception):
                    producer.close()
            workers.stop()
        return result

    def _warm_up(self, producer: Any, workers: Workers, counter: DoneCounter) -> None:
        """Run jobs until every worker process has finished one.

        The timed run then starts with connected, idle workers, so start-up
        time is left out and each of the two processes takes part.
        """
        sent = 0
        deadline = time.monotonic() + WARMUP_SECONDS
        while len(counter.per_process()) < WORKERS:
            if time.monotonic() > deadline:
                raise BenchmarkError(
                    f"only {len(counter.per_process())} of {WORKERS} workers "
                    f"finished a job within {WARMUP_SECONDS:.0f} s: "
                    f"{workers.log_tail(0)}"
                )
            workers.check_alive()
            producer.send("sleep", WARMUP_BATCH)
            sent += WARMUP_BATCH
            self._wait_for(counter, workers, sent)

    def _wait_for(self, counter: DoneCounter, workers: Workers, target: int) -> float:
        """Poll the done folder until ``target`` jobs finished; return that time."""
        deadline = time.monotonic() + self.timeout
        last_check = time.monotonic()
        while counter.total() < target:
            now = time.monotonic()
            if now > deadline:
                raise BenchmarkError(
                    f"{counter.total()} of {target} jobs finished within "
                    f"{self.timeout:.0f} s"
                )
            if now - last_check > 1.0:
                workers.check_alive()
                last_check = now
            time.sleep(POLL_SECONDS)
        return time.perf_counter()

    def _stats(self) -> tuple[dict[str, int], int]:
        info = self.admin.info("commandstats", "stats")
        calls = {
            key.removeprefix("cmdstat_"): int(value["calls"])
            for key, value in info.items()
            if key.startswith("cmdstat_")
        }
        return calls, int(info["total_reads_processed"])

    def _timed_run(
        self,
        producer: Any,
        workers: Workers,
        counter: DoneCounter,
        *,
        workload: str,
        jobs: int,
        result: Result,
    ) -> None:
        baseline = counter.total()
        calls_before, reads_before = self._stats()
        start = time.perf_counter()
        producer.send(workload, jobs)
        result.enqueue_seconds = time.perf_counter() - start
        end = self._wait_for(counter, workers, baseline + jobs)
        calls_after, reads_after = self._stats()
        result.jobs = jobs
        result.seconds = end - start
        # The INFO before the run is counted in the run's delta; one read
        # and one call belong to the harness, not to the system.
        delta = {
            name: calls_after.get(name, 0) - calls_before.get(name, 0)
            for name in calls_after
        }
        delta["info"] = delta.get("info", 0) - 1
        result.commands = {name: count for name, count in delta.items() if count}
        result.calls = sum(result.commands.values())
        result.reads = reads_after - reads_before - 1

    def _monitor_run(
        self,
        producer: Any,
        workers: Workers,
        counter: DoneCounter,
        *,
        workload: str,
        jobs: int,
        result: Result,
    ) -> None:
        monitor = CommandMonitor(self.url)
        monitor.start()
        monitor.ready.wait(5.0)
        # MONITOR starts streaming once the server has replied to it; the
        # marker after a short pause is then certain to be seen.
        time.sleep(0.2)
        baseline = counter.total()
        monitor.mark(self.admin)
        producer.send(workload, jobs)
        self._wait_for(counter, workers, baseline + jobs)
        monitor.mark(self.admin)
        if not monitor.finished.wait(30.0):
            raise BenchmarkError("the MONITOR stream did not reach the end marker")
        monitor.client.close()
        result.monitor_jobs = jobs
        result.client_commands = monitor.client_commands
        result.script_commands = monitor.script_commands
