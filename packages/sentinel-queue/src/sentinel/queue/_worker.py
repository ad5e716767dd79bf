"""The worker: fetch jobs, run their registered tasks, record the outcome."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import redis

from sentinel.core import (
    QUEUE_TASK,
    MissingDependencyError,
    PermanentTaskError,
    Task,
    TypeRegistry,
    UnknownTypeError,
)
from sentinel.queue._errors import JobEncodingError
from sentinel.queue._job import Job
from sentinel.queue._queue import RETRY, STALE, Queue

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Redis errors after which the worker waits for the server and tries again.
CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError)
# Retry delays grow from retry_backoff by doubling up to this many seconds.
MAX_BACKOFF = 300.0
RECOVER_INTERVAL = 1.0
IDLE_WAIT = 1.0


def default_worker_name() -> str:
    """Return a name that tells machine and process apart: host.pid.random."""
    return f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:4]}"


def retry_delay(attempt: int, base: float, cap: float = MAX_BACKOFF) -> float:
    """Return the delay before retrying after ``attempt`` failed.

    The delay doubles with each attempt up to ``cap``; a random factor
    between 0.5 and 1 spreads retries of jobs that failed together.
    """
    exponential = min(cap, base * 2.0 ** max(0, attempt - 1))
    return exponential * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not secrets


class JobContext:
    """The :class:`sentinel.core.TaskContext` of one delivery of a job."""

    def __init__(self, worker: Worker, job: Job, task: str) -> None:
        self._worker = worker
        self._job = job
        self._task = task

    @property
    def job_id(self) -> str:
        """Id of the job being run."""
        return self._job.id

    @property
    def task(self) -> str:
        """Registered name of the task being run."""
        return self._task

    @property
    def attempt(self) -> int:
        """Attempt number of this run, starting at 1."""
        return self._job.attempt

    @property
    def max_attempts(self) -> int:
        """Total number of attempts allowed, the first one included."""
        return self._job.max_attempts

    @property
    def config(self) -> Mapping[str, Any]:
        """The merged configuration of the worker."""
        return self._worker.config

    def call(self, task: str, payload: Mapping[str, Any]) -> Any:
        """Run the registered task ``task`` in this process, as part of this job."""
        function = self._worker.lookup(task)
        logger.debug(
            "worker %s: job %s calls task %s", self._worker.name, self.job_id, task
        )
        return function(JobContext(self._worker, self._job, task), dict(payload))

    def progress(self, fraction: float, message: str = "") -> None:
        """Store a progress report between 0.0 and 1.0 for the dashboard."""
        self._worker.queue.progress(self.job_id, fraction, message)


class Heartbeat(threading.Thread):
    """Renew the leases of the jobs a worker runs, from a thread of its own.

    A task that blocks the worker's main thread in Python code still lets
    this thread run; one that holds the GIL in C code for longer than the
    lease does not, and its job is delivered again.
    """

    def __init__(self, worker: Worker, interval: float) -> None:
        super().__init__(name=f"heartbeat-{worker.name}", daemon=True)
        self._worker = worker
        self._interval = interval
        self._jobs: dict[str, Job] = {}
        self._lost: set[str] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def track(self, job: Job) -> None:
        """Start renewing the lease of ``job``."""
        with self._lock:
            self._jobs[job.id] = job
            self._lost.discard(job.id)

    def untrack(self, job: Job) -> bool:
        """Stop renewing the lease of ``job``; False when the lease was lost."""
        with self._lock:
            self._jobs.pop(job.id, None)
            lost = job.id in self._lost
            self._lost.discard(job.id)
        return not lost

    def stop(self) -> None:
        """Stop the thread after its current beat."""
        self._stopped.set()

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            with self._lock:
                jobs = list(self._jobs.values())
            if not jobs:
                continue
            try:
                renewed = self._worker.queue.heartbeat(jobs)
            except CONNECTION_ERRORS as exc:
                logger.warning(
                    "worker %s: heartbeat failed (%s); retrying in %.1f s",
                    self._worker.name,
                    exc,
                    self._interval,
                )
                continue
            for job, ok in zip(jobs, renewed, strict=True):
                if not ok:
                    self._mark_lost(job)

    def _mark_lost(self, job: Job) -> None:
        with self._lock:
            if job.id not in self._jobs or job.id in self._lost:
                return
            self._lost.add(job.id)
        logger.warning(
            "worker %s: job %s lease lost; another worker may run it again",
            self._worker.name,
            job.id,
        )


class Worker:
    """Run jobs of one queue with the tasks that plugins register.

    :meth:`run` fetches and runs one job at a time until :meth:`stop` is
    called. A lost Redis connection pauses the worker until the server is
    back; the leases of its jobs keep them safe meanwhile.
    """

    def __init__(
        self,
        queue: Queue,
        registry: TypeRegistry,
        *,
        config: Mapping[str, Any] | None = None,
        name: str | None = None,
        retry_backoff: float = 1.0,
        parent_pid: int | None = None,
    ) -> None:
        self.queue = queue
        self.registry = registry
        self.config: Mapping[str, Any] = config or {}
        self.name = name or default_worker_name()
        self.retry_backoff = retry_backoff
        self.parent_pid = parent_pid
        self.jobs_run = 0
        self._stop = threading.Event()
        self._last_recover = 0.0

    def lookup(self, task: str) -> Task:
        """Return the task registered as ``task`` (kind ``queue.task``)."""
        function: Task = self.registry.get(QUEUE_TASK, task)
        return function

    def stop(self) -> None:
        """Ask the worker to stop after the job it is running."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def run(self, *, burst: bool = False) -> None:
        """Run jobs until stopped; with ``burst``, stop once the queue is empty."""
        heartbeat = Heartbeat(self, max(0.05, self.queue.lease_seconds / 3))
        heartbeat.start()
        self._heartbeat = heartbeat
        logger.info("worker %s started on queue %s", self.name, self.queue.name)
        try:
            while not self._should_stop():
                worked = self._with_reconnect(self.work_once)
                if worked is False and burst:
                    break
        finally:
            heartbeat.stop()
            logger.info("worker %s stopped after %d jobs", self.name, self.jobs_run)

    def _should_stop(self) -> bool:
        if self._stop.is_set():
            return True
        if self.parent_pid is not None and os.getppid() != self.parent_pid:
            logger.warning(
                "worker %s: parent process %d is gone; stopping",
                self.name,
                self.parent_pid,
            )
            self._stop.set()
        return self._stop.is_set()

    def work_once(self) -> bool:
        """Recover expired leases when due, then run one job or wait for one.

        Returns True when a job ran.
        """
        now = time.monotonic()
        if now - self._last_recover >= RECOVER_INTERVAL:
            self._last_recover = now
            self._recover()
        fetched = self.queue.fetch(self.name)
        if isinstance(fetched, Job):
            self.execute(fetched)
            return True
        wait = IDLE_WAIT if fetched is None else min(IDLE_WAIT, fetched)
        # Enqueue pushes a token to the wake list, so a new job ends the wait.
        self.queue.client.blpop([self.queue.keys.wake], timeout=max(0.01, wait))
        return False

    def _recover(self) -> None:
        requeued, failed = self.queue.recover()
        for job_id in requeued:
            logger.warning(
                "worker %s: job %s lease expired; queued again", self.name, job_id
            )
        for job_id in failed:
            logger.error(
                "worker %s: job %s failed: lease expired on its last attempt",
                self.name,
                job_id,
            )

    def execute(self, job: Job) -> None:
        """Run ``job`` and store its result, a retry or its failure."""
        logger.debug(
            "worker %s: job %s started, task %s, attempt %d of %d",
            self.name,
            job.id,
            job.task,
            job.attempt,
            job.max_attempts,
        )
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None:
            heartbeat.track(job)
        try:
            self._run_task(job)
        finally:
            if heartbeat is not None:
                heartbeat.untrack(job)
            self.jobs_run += 1

    def _run_task(self, job: Job) -> None:
        try:
            result = self.lookup(job.task)(
                JobContext(self, job, job.task), dict(job.payload)
            )
            stored = self._with_reconnect(lambda: self.queue.finish(job, result))
        except (PermanentTaskError, UnknownTypeError, MissingDependencyError) as exc:
            self._record_failure(job, exc, retry=False)
            return
        except JobEncodingError as exc:
            self._record_failure(job, exc, retry=False)
            return
        except Exception as exc:  # noqa: BLE001 - any task error is the job's failure
            self._record_failure(job, exc, retry=True)
            return
        if stored:
            logger.debug("worker %s: job %s done", self.name, job.id)
        else:
            logger.warning(
                "worker %s: job %s result discarded: its lease passed to a newer "
                "delivery",
                self.name,
                job.id,
            )

    def _record_failure(self, job: Job, exc: BaseException, *, retry: bool) -> None:
        error = f"{type(exc).__name__}: {exc}"
        delay = retry_delay(job.attempt, self.retry_backoff) if retry else None
        outcome = self._with_reconnect(lambda: self.queue.fail(job, error, delay))
        if outcome == RETRY:
            logger.info(
                "worker %s: job %s attempt %d of %d failed (%s); retrying in %.2f s",
                self.name,
                job.id,
                job.attempt,
                job.max_attempts,
                error,
                delay,
            )
        elif outcome == STALE:
            logger.warning(
                "worker %s: job %s failure discarded: its lease passed to a newer "
                "delivery (%s)",
                self.name,
                job.id,
                error,
            )
        elif not retry:
            # A permanent error is an expected rejection, such as a malformed
            # file: its message says everything and a traceback would be noise.
            logger.error(
                "worker %s: job %s failed without retry: %s", self.name, job.id, error
            )
        else:
            logger.error(
                "worker %s: job %s failed after %d of %d attempts: %s",
                self.name,
                job.id,
                job.attempt,
                job.max_attempts,
                error,
                exc_info=exc,
            )

    def _with_reconnect(self, call: Callable[[], T]) -> T | None:
        """Run ``call``, waiting for Redis to come back after a lost connection.

        Returns None when the worker is asked to stop before Redis is back.
        """
        delay = 0.1
        lost = False
        while True:
            try:
                result = call()
            except CONNECTION_ERRORS as exc:
                if not lost:
                    logger.warning(
                        "worker %s lost its Redis connection (%s); reconnecting",
                        self.name,
                        exc,
                    )
                    lost = True
                if self._should_stop():
                    return None
                time.sleep(delay)
                delay = min(2.0, delay * 2)
                continue
            if lost:
                logger.info("worker %s reconnected to Redis", self.name)
            return result
