"""The asyncio queue client and worker, over the same scripts as the sync ones."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import redis
import redis.asyncio

from sentinel.core import QUEUE_TASK, ConcurrencyLimiter, TypeRegistry
from sentinel.queue._errors import JobCancelledError, JobTimeoutError
from sentinel.queue._job import FAILED, Job, dump_json
from sentinel.queue._outcome import (
    BaseJobContext,
    Reconnect,
    default_worker_name,
    error_text,
    failure_kind,
    log_acked,
    log_cancelling,
    log_failure,
    log_lease_lost,
    log_recovered,
    result_label,
    retry_delay,
)
from sentinel.queue._queue import (
    DEFAULT_NAME,
    ENQUEUE_CHUNK,
    Batch,
    Call,
    QueueCore,
)
from sentinel.queue._worker import DEFAULT_GRACE_SECONDS, IDLE_WAIT, RECOVER_INTERVAL

logger = logging.getLogger(__name__)

T = TypeVar("T")

CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError)
DEFAULT_CONCURRENCY = 10
# Seconds between fetches while some jobs run and slots are free.
POLL_WAIT = 0.1


class AsyncQueue(QueueCore):
    """The queue of :class:`sentinel.queue.Queue` for redis.asyncio clients.

    It runs the same script calls, with the same arguments and reply
    decoding, so sync and async producers and workers share one queue.
    """

    @classmethod
    def from_url(cls, url: str, name: str = DEFAULT_NAME, **options: Any) -> AsyncQueue:
        """Return the queue ``name`` on the server at a ``redis://`` URL."""
        client = redis.asyncio.Redis.from_url(url, decode_responses=True)
        return cls(client, name, **options)

    async def _run(self, call: Call[T]) -> T:
        script = self._scripts[call.script]
        return call.parse(await script(keys=self._key_list, args=call.args))

    async def enqueue(
        self,
        task: str,
        payload: Mapping[str, Any],
        *,
        max_retries: int | None = None,
        unique_key: str | None = None,
        priority: int = 0,
        delay: float = 0.0,
        timeout: float | None = None,
    ) -> str:
        """Add a job for ``task`` and return its id (see ``Queue.enqueue``)."""
        return await self._run(
            self._enqueue_call(
                task,
                payload,
                max_retries=max_retries,
                unique_key=unique_key,
                priority=priority,
                delay=delay,
                timeout=timeout,
            )
        )

    async def enqueue_many(
        self,
        task: str,
        payloads: Iterable[Mapping[str, Any]],
        *,
        max_retries: int | None = None,
        priority: int = 0,
        delay: float = 0.0,
        timeout: float | None = None,
        chunk: int = ENQUEUE_CHUNK,
    ) -> list[str]:
        """Add one job per payload, ``chunk`` per script call (see ``Queue``)."""
        ids: list[str] = []
        for call in self._enqueue_many_calls(
            task,
            payloads,
            max_retries=max_retries,
            priority=priority,
            delay=delay,
            timeout=timeout,
            chunk=chunk,
        ):
            stored: list[str] = await self._run(call)
            ids.extend(stored)
        return ids

    async def ack_fetch(
        self,
        worker: str,
        count: int,
        done: Iterable[tuple[Job, str]] = (),
        *,
        starts: int | None = None,
        start: Job | None = None,
    ) -> Batch:
        """Acknowledge finished jobs and lease new ones (see ``Queue.ack_fetch``)."""
        return await self._run(
            self._ack_fetch_call(worker, count, done, starts=starts, start=start)
        )

    async def heartbeat_flags(self, jobs: Sequence[Job]) -> list[int]:
        """Renew leases: 1 renewed, 0 lost, 2 renewed with cancellation requested."""
        return await self._run(self._heartbeat_call(jobs)) if jobs else []

    async def finish(self, job: Job, result: Any) -> bool:
        """Store the result of ``job``; False when its lease went to another worker."""
        text = dump_json(result, result_label(job))
        return (await self.ack_fetch("", 0, [(job, text)])).acked[0]

    async def fail(
        self, job: Job, error: str, retry_in: float | None, *, state: str = FAILED
    ) -> str:
        """Record a failed attempt of ``job`` (see ``Queue.fail``)."""
        return await self._run(self._fail_call(job, error, retry_in, state))

    async def release_many(self, jobs: Sequence[Job]) -> list[bool]:
        """Give leased jobs back without using up their attempts."""
        return await self._run(self._release_call(jobs)) if jobs else []

    async def recover(self) -> tuple[list[str], list[str]]:
        """Requeue or fail jobs whose lease expired; delete expired records."""
        return await self._run(self._recover_call())

    async def progress(self, job: Job, fraction: float, message: str = "") -> bool:
        """Store the last progress report of ``job`` while this delivery holds it."""
        return await self._run(self._progress_call(job, fraction, message))

    async def cancel(self, job_id: str) -> str:
        """Cancel a job (see ``Queue.cancel``)."""
        return await self._run(self._cancel_call(job_id))

    async def requeue(self, job_id: str) -> bool:
        """Queue a failed or cancelled job again with fresh attempts."""
        return await self._run(self._requeue_call(job_id))

    async def purge(self, state: str, limit: int = 10_000) -> int:
        """Delete up to ``limit`` jobs in ``state``."""
        return await self._run(self._purge_call(state, limit))

    async def counts(self) -> dict[str, int]:
        """Count jobs by state: queued, active, delayed, and finished ever."""
        return await self._run(self._counts_call())

    async def state_counts(self) -> dict[str, dict[str, int]]:
        """Count stored jobs by state and finished jobs ever (see ``Queue``)."""
        return await self._run(self._state_counts_call())

    async def get(self, job_id: str) -> dict[str, Any] | None:
        """Return the job ``job_id`` as a dict, or None when unknown or expired."""
        return await self._run(self._get_call(job_id))

    async def jobs(
        self, state: str, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """List jobs in ``state``, one page of ``limit`` from ``offset``."""
        return await self._run(self._jobs_call(state, limit, offset))

    async def recent(self, state: str, limit: int = 50) -> list[dict[str, Any]]:
        """List up to ``limit`` jobs in ``state`` (see ``Queue.recent``)."""
        return await self.jobs(state, limit)


class AsyncJobContext(BaseJobContext["AsyncWorker"]):
    """The :class:`sentinel.core.TaskContext` of one job run by :class:`AsyncWorker`."""

    def call(self, task: str, payload: Mapping[str, Any]) -> Any:
        """Call the registered task ``task``; await the result of a coroutine task."""
        function = self._worker.lookup(task)
        return function(AsyncJobContext(self._worker, self._job, task), dict(payload))

    def progress(self, fraction: float, message: str = "") -> None:
        """Store a progress report; it is written in the background, fenced."""
        self._worker.spawn(self._worker.queue.progress(self._job, fraction, message))


class AsyncWorker:
    """Run coroutine tasks of one queue, at most ``concurrency`` at a time.

    Each loop acknowledges the finished jobs and leases as many new ones as
    the :class:`sentinel.core.ConcurrencyLimiter` has free slots, in one
    script call, and starts them all at once, so every leased job is marked
    started when leased and attempts are exact. Leases are renewed by a
    heartbeat task; a job whose cancellation is requested is cancelled, one
    that outlives its timeout fails with :class:`JobTimeoutError`. A task
    that is a plain function runs in a thread. :meth:`stop` stops fetching
    and lets running jobs finish for ``grace_seconds``; then they are
    cancelled and handed back without spending their attempt.
    """

    def __init__(
        self,
        queue: AsyncQueue,
        registry: TypeRegistry,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        config: Mapping[str, Any] | None = None,
        name: str | None = None,
        retry_backoff: float = 1.0,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
    ) -> None:
        self.queue = queue
        self.registry = registry
        self.limiter = ConcurrencyLimiter(concurrency)
        self.config: Mapping[str, Any] = config or {}
        self.name = name or default_worker_name()
        self.retry_backoff = retry_backoff
        self.grace_seconds = grace_seconds
        self.jobs_run = 0
        self._stop = asyncio.Event()
        self._changed = asyncio.Event()
        self._running: dict[str, tuple[Job, asyncio.Task[None]]] = {}
        self._acks: list[tuple[Job, str]] = []
        self._cancelled: set[str] = set()
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def label(self) -> str:
        """The name of this worker as its log lines open with it."""
        return f"async worker {self.name}"

    def lookup(self, task: str) -> Callable[..., Any]:
        """Return the task registered as ``task`` (kind ``queue.task``)."""
        function: Callable[..., Any] = self.registry.get(QUEUE_TASK, task)
        return function

    def spawn(self, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` in the background, keeping a reference until it ends."""
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def stop(self) -> None:
        """Stop fetching; running jobs get ``grace_seconds`` to finish.

        With ``burst``, :meth:`run` also returns once nothing is queued,
        delayed or running.
        """
        self._stop.set()
        self._changed.set()

    async def run(self, *, burst: bool = False) -> None:
        """Run jobs until stopped; with ``burst``, stop once the queue is empty."""
        heartbeat = asyncio.create_task(self._heartbeat())
        logger.info(
            "async worker %s started on queue %s, %d at a time",
            self.name,
            self.queue.name,
            self.limiter.limit,
        )
        last_recover = 0.0
        try:
            while not self._stop.is_set():
                if time.monotonic() - last_recover >= RECOVER_INTERVAL:
                    last_recover = time.monotonic()
                    await self._reconnecting(self._recover)
                self._changed.clear()
                batch = await self._reconnecting(self._fetch)
                if batch is None:
                    continue
                free = len(self._running) < self.limiter.limit
                if batch.jobs and free:
                    continue
                idle = not self._running and not self._acks
                if burst and idle and not batch.jobs and batch.wait is None:
                    break
                await self._wait(None if batch.jobs else batch.wait)
            await self._drain()
        finally:
            heartbeat.cancel()
            logger.info(
                "async worker %s stopped after %d jobs", self.name, self.jobs_run
            )

    async def _fetch(self) -> Batch:
        free = self.limiter.limit - len(self._running)
        count = 0 if self._stop.is_set() else free
        acks, self._acks = self._acks, []
        try:
            batch = await self.queue.ack_fetch(self.name, count, acks, starts=count)
        except BaseException:
            self._acks[:0] = acks
            raise
        log_acked(self.label, acks, batch.acked)
        for job in batch.jobs:
            task = asyncio.create_task(self._execute(job))
            self._running[job.id] = (job, task)
        return batch

    async def _wait(self, wait: float | None) -> None:
        """Wait until a job ends, a job may be due, or a new job is enqueued."""
        timeout = max(0.01, min(IDLE_WAIT, wait if wait is not None else IDLE_WAIT))
        if len(self._running) >= self.limiter.limit:
            timeout = IDLE_WAIT
        elif self._running:
            # Free slots but no wake token to wait on: look again soon.
            timeout = min(timeout, POLL_WAIT)
        if self._acks or self._stop.is_set() or self._changed.is_set():
            return
        if not self._running:
            # Enqueue pushes a wake token, so a new job ends this wait.
            await self._reconnecting(
                lambda: self.queue.client.blpop([self.queue.keys.wake], timeout=timeout)
            )
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def _recover(self) -> None:
        log_recovered(self.label, *await self.queue.recover())

    async def _execute(self, job: Job) -> None:
        try:
            async with self.limiter:
                await self._run_task(job)
        finally:
            self._running.pop(job.id, None)
            self.jobs_run += 1
            self._changed.set()

    async def _invoke(self, job: Job) -> Any:
        function = self.lookup(job.task)
        context = AsyncJobContext(self, job, job.task)
        if inspect.iscoroutinefunction(function):
            call: Awaitable[Any] = function(context, dict(job.payload))
        else:
            call = asyncio.to_thread(function, context, dict(job.payload))
        if job.timeout is None:
            return await call
        try:
            async with asyncio.timeout(job.timeout):
                return await call
        except TimeoutError as exc:
            raise JobTimeoutError(
                f"job {job.id} ran longer than its timeout of {job.timeout} s"
            ) from exc

    async def _run_task(self, job: Job) -> None:
        try:
            result = await self._invoke(job)
            text = dump_json(result, result_label(job))
        except asyncio.CancelledError:
            if job.id not in self._cancelled:
                raise
            await self._record_failure(
                job, JobCancelledError(f"job {job.id} cancelled")
            )
            return
        except Exception as exc:  # noqa: BLE001 - any task error is the job's failure
            await self._record_failure(job, exc)
            return
        self._acks.append((job, text))

    async def _record_failure(self, job: Job, exc: Exception) -> None:
        retry, state = failure_kind(exc)
        delay = retry_delay(job.attempt, self.retry_backoff) if retry else None
        outcome = await self._reconnecting(
            lambda: self.queue.fail(job, error_text(exc), delay, state=state)
        )
        log_failure(self.label, job, exc, outcome, retry=retry, delay=delay)

    async def _heartbeat(self) -> None:
        interval = max(0.05, self.queue.lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            running = [job for job, _ in self._running.values()]
            try:
                flags = await self.queue.heartbeat_flags(running)
            except CONNECTION_ERRORS as exc:
                logger.warning("async worker %s: heartbeat failed (%s)", self.name, exc)
                continue
            for job, flag in zip(running, flags, strict=True):
                entry = self._running.get(job.id)
                if flag == 0:
                    log_lease_lost(self.label, job)
                elif flag == 2 and entry is not None and job.id not in self._cancelled:
                    log_cancelling(self.label, job)
                    self._cancelled.add(job.id)
                    entry[1].cancel()

    async def _drain(self) -> None:
        """Let running jobs finish for the grace period, then hand them back."""
        tasks = [task for _, task in self._running.values()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.grace_seconds)
            if pending:
                jobs = [job for job, task in self._running.values() if task in pending]
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                await self._reconnecting(lambda: self.queue.release_many(jobs))
                for job in jobs:
                    logger.warning(
                        "async worker %s: job %s still running after the %.0f s "
                        "grace period; handed back to the queue",
                        self.name,
                        job.id,
                        self.grace_seconds,
                    )
        if self._acks:
            await self._reconnecting(self._fetch)

    async def _reconnecting(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """Await ``call``, waiting for Redis to come back after a lost connection."""
        reconnect = Reconnect(self.label)
        while True:
            try:
                result = await call()
            except CONNECTION_ERRORS as exc:
                delay = reconnect.lost(exc)
                if self._stop.is_set() and not self._acks and not self._running:
                    return None
                await asyncio.sleep(delay)
                continue
            reconnect.done()
            return result
