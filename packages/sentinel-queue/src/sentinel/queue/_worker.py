"""The worker: fetch jobs, run their registered tasks, record the outcome."""

from __future__ import annotations

import ctypes
import logging
import os
import random
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Any, TypeVar

import redis

from sentinel.core import QUEUE_TASK, Task, TypeRegistry
from sentinel.queue._cron import Scheduler
from sentinel.queue._errors import JobCancelledError, JobTimeoutError
from sentinel.queue._job import Job, dump_json
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
from sentinel.queue._queue import PendingBatch, Queue

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Redis errors after which the worker waits for the server and tries again.
CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError)
RECOVER_INTERVAL = 1.0
IDLE_WAIT = 1.0
# A worker leases about this many seconds of work per fetch, judged by the
# average run time of its recent jobs, and never more than MAX_BATCH jobs:
# short jobs share one round trip, long ones are not hoarded.
BATCH_SECONDS = 0.05
MAX_BATCH = 64
# A result waits to be acknowledged with the next fetch only when its job
# ran shorter than ACK_NOW_SECONDS, and at most MAX_UNACKED results wait.
# So a killed worker loses at most that many short results, whose jobs run
# again. Longer jobs are acknowledged before the next one starts.
ACK_NOW_SECONDS = 0.005
# When a fetch leased fewer jobs than it requested, the producers are
# slower than the workers. The worker then waits this long before the next
# fetch, so jobs enqueued meanwhile arrive together in one batch instead of
# costing one fetch and one wake-up each. The wait is bounded by
# MAX_FETCH_LINGER and ends early when the worker stops.
FETCH_LINGER = 0.002
MAX_FETCH_LINGER = 0.1
MAX_UNACKED = 16
# At most this many start marks wait with their replies unread. Their
# replies are read together, so short jobs do not each wait for one.
MAX_UNREAD_MARKS = 32
# Seconds a stopping worker lets its running job finish before handing it back.
DEFAULT_GRACE_SECONDS = 20.0


class JobContext(BaseJobContext["Worker"]):
    """The :class:`sentinel.core.TaskContext` of one delivery of a job."""

    def __init__(
        self, worker: Worker, job: Job, task: str, queue: Queue | None = None
    ) -> None:
        super().__init__(worker, job, task)
        self._queue = queue or worker.queue

    def call(self, task: str, payload: Mapping[str, Any]) -> Any:
        """Run the registered task ``task`` in this process, as part of this job."""
        function = self._worker.lookup(task)
        logger.debug(
            "worker %s: job %s calls task %s", self._worker.name, self.job_id, task
        )
        context = JobContext(self._worker, self._job, task, self._queue)
        return function(context, dict(payload))

    def progress(self, fraction: float, message: str = "") -> None:
        """Store a progress report between 0.0 and 1.0 for the dashboard."""
        self._queue.progress(self._job, fraction, message)


class Heartbeat(threading.Thread):
    """Renew the leases of the jobs a worker runs, from a thread of its own.

    A task that blocks the worker's main thread in Python code still lets
    this thread run. A task that keeps the GIL in C code for longer than the
    lease does not, so its job is delivered again.
    """

    def __init__(self, worker: Worker, interval: float) -> None:
        super().__init__(name=f"heartbeat-{worker.name}", daemon=True)
        self._worker = worker
        self._interval = interval
        self._jobs: dict[str, tuple[Queue, Job]] = {}
        self._lost: set[str] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def track(self, job: Job, queue: Queue | None = None) -> None:
        """Start renewing the lease of ``job``."""
        with self._lock:
            self._jobs[job.id] = (queue or self._worker.queue, job)
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
            self._worker.stop_if_orphaned()
            with self._lock:
                tracked = list(self._jobs.values())
            by_queue: dict[int, tuple[Queue, list[Job]]] = {}
            for queue, job in tracked:
                by_queue.setdefault(id(queue), (queue, []))[1].append(job)
            for queue, jobs in by_queue.values():
                self._beat(queue, jobs)

    def _beat(self, queue: Queue, jobs: list[Job]) -> None:
        try:
            flags = queue.heartbeat_flags(jobs)
        except CONNECTION_ERRORS as exc:
            logger.warning(
                "worker %s: heartbeat failed (%s); retrying in %.1f s",
                self._worker.name,
                exc,
                self._interval,
            )
            return
        for job, flag in zip(jobs, flags, strict=True):
            if flag == 0:
                self._mark_lost(job)
            elif flag == 2:
                self._worker.cancel_running(job)

    def _mark_lost(self, job: Job) -> None:
        with self._lock:
            if job.id not in self._jobs or job.id in self._lost:
                return
            self._lost.add(job.id)
        log_lease_lost(self._worker.label, job)


class _Interrupter:
    """Raise an exception inside the thread that runs a job.

    In the main thread a signal interrupts even a blocking call such as
    ``time.sleep``. In other threads ``PyThreadState_SetAsyncExc`` raises
    the exception at the thread's next Python instruction, so a blocking C
    call (``time.sleep``, a socket read) is interrupted only when it
    returns. That raises a fresh instance of the exception's class, and
    :meth:`Worker._invoke` swaps it for ``pending``, which carries the
    message.
    """

    def __init__(self) -> None:
        self.thread_id = threading.get_ident()
        self.in_main = threading.current_thread() is threading.main_thread()
        self.pending: BaseException | None = None
        self._lock = threading.Lock()
        self._armed = False
        if self.in_main and hasattr(signal, "SIGALRM"):
            signal.signal(signal.SIGALRM, self._on_signal)
        else:
            self.in_main = False

    def arm(self) -> None:
        with self._lock:
            self._armed = True
            self.pending = None

    def disarm(self) -> BaseException | None:
        """Stop interrupting; return the exception sent to the job, if any.

        An asynchronous exception that was sent but has not fired yet is
        cancelled, so it cannot escape into the worker's own code after
        the job.
        """
        with self._lock:
            pending = self.pending
            if pending is not None and not self.in_main:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self.thread_id), None
                )
            self._armed = False
            self.pending = None
        return pending

    def interrupt(self, exc: BaseException) -> bool:
        """Deliver ``exc`` to the job thread; False when no job is running."""
        with self._lock:
            if not self._armed or self.pending is not None:
                return False
            self.pending = exc
            if self.in_main:
                signal.pthread_kill(self.thread_id, signal.SIGALRM)
            else:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self.thread_id), ctypes.py_object(type(exc))
                )
        return True

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        with self._lock:
            exc = self.pending if self._armed else None
        if exc is not None:
            raise exc


class Worker:
    """Run jobs of one or more queues with the tasks that plugins register.

    :meth:`run` leases jobs in batches sized to about 50 ms of work, runs
    them one at a time, and acknowledges the finished ones in the same script
    call that leases the next batch, so a busy worker makes about one round
    trip per batch. :meth:`stop` hands back the leased jobs that have not
    started at once and lets the running job finish for ``grace_seconds``;
    then that job is handed back too and ``on_abandon`` is called (the
    worker command exits there). A lost Redis connection pauses the worker
    until the server is back; the leases of its jobs keep them safe meanwhile.

    With several queues, each fetch picks a queue at random in proportion
    to ``weights`` and falls back to the others when it is empty.

    With ``exact_attempts`` (the default) a job's attempt is counted when it
    starts: the call that acknowledges the previous job marks the next one
    started, so a job leased in a batch but never started (its worker was
    killed) goes back without spending an attempt, and a killed worker loses
    at most one result. That is one script call per job. Without it, a
    whole batch is marked started when it is leased and short jobs are
    acknowledged in groups: a few calls per hundred short jobs, but a killed
    worker spends an attempt of every job it held.

    ``batch_seconds`` sets the work leased per fetch; the loops of one
    process that runs several share it out, so that one loop does not hold
    jobs that its idle siblings could run.

    When a fetch leases fewer jobs than it asked for, the next fetch waits
    ``fetch_linger`` seconds first (at most ``MAX_FETCH_LINGER``; 0 turns
    it off), so that jobs trickling in from a slow producer are leased in
    batches rather than with a fetch and a wake-up each. A worker with a
    backlog always leases full batches and never waits.
    """

    def __init__(
        self,
        queue: Queue | Sequence[Queue],
        registry: TypeRegistry,
        *,
        config: Mapping[str, Any] | None = None,
        name: str | None = None,
        retry_backoff: float = 1.0,
        parent_pid: int | None = None,
        weights: Sequence[float] | None = None,
        max_batch: int = MAX_BATCH,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        on_abandon: Callable[[], None] | None = None,
        scheduler: Scheduler | None = None,
        max_unacked: int = MAX_UNACKED,
        ack_now_seconds: float = ACK_NOW_SECONDS,
        exact_attempts: bool = True,
        fetch_linger: float = FETCH_LINGER,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self.queues = [queue] if isinstance(queue, Queue) else list(queue)
        if not self.queues:
            raise ValueError("a worker needs at least one queue")
        self.weights = list(weights) if weights else [1.0] * len(self.queues)
        if len(self.weights) != len(self.queues) or min(self.weights) <= 0:
            raise ValueError(
                f"weights {self.weights} must be positive, one per queue "
                f"({len(self.queues)})"
            )
        self.queue = self.queues[0]
        self.registry = registry
        self.config: Mapping[str, Any] = config or {}
        self.name = name or default_worker_name()
        self.retry_backoff = retry_backoff
        self.parent_pid = parent_pid
        self.max_batch = max(1, max_batch)
        self.grace_seconds = grace_seconds
        self.on_abandon = on_abandon
        self.scheduler = scheduler
        self.max_unacked = max(1, max_unacked)
        self.ack_now_seconds = ack_now_seconds
        self.exact_attempts = exact_attempts
        if not 0 <= fetch_linger <= MAX_FETCH_LINGER:
            raise ValueError(
                f"fetch_linger is {fetch_linger}; expected 0 to "
                f"{MAX_FETCH_LINGER} seconds"
            )
        self.fetch_linger = fetch_linger
        self.batch_seconds = batch_seconds
        # Whether the last fetch leased fewer jobs than it asked for.
        self._short_fetch = False
        self.jobs_run = 0
        self._stop = threading.Event()
        self._stopping = threading.Lock()
        self._last_recover = 0.0
        self._lock = threading.Lock()
        self._buffer: deque[tuple[Queue, Job]] = deque()
        self._acks: dict[int, list[tuple[Job, str]]] = {}
        self._running: tuple[Queue, Job] | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._average = 0.0
        self._interrupter: _Interrupter | None = None
        self._heartbeat: Heartbeat | None = None
        self._handed_back = threading.Event()
        # (job id, token) of leased jobs whose start is marked in Redis.
        self._started: set[tuple[str, int]] = set()
        # Start marks sent, each with the results it acknowledges, whose
        # replies are not read yet (see _settle_starts).
        self._start_replies: deque[
            tuple[PendingBatch, Queue, Job, list[tuple[Job, str]]]
        ] = deque()

    @property
    def label(self) -> str:
        """The name of this worker as its log lines open with it."""
        return f"worker {self.name}"

    def lookup(self, task: str) -> Task:
        """Return the task registered as ``task`` (kind ``queue.task``)."""
        function: Task = self.registry.get(QUEUE_TASK, task)
        return function

    def stop(self) -> None:
        """Stop fetching, hand back unstarted jobs, let the running one finish.

        Safe to call from a signal handler: the Redis calls run in a thread.
        """
        # The heartbeat thread and a signal handler may both call this. The
        # first caller takes the lock for good; a blocking acquire could
        # deadlock a handler that interrupted the lock's holder.
        if self._stop.is_set() or not self._stopping.acquire(blocking=False):
            return
        self._stop.set()
        threading.Thread(
            target=self._hand_back, name=f"stop-{self.name}", daemon=True
        ).start()

    def stop_now(self) -> None:
        """Hand back every leased job, the running one too, without waiting."""
        self._stop.set()
        self._release_all(include_running=True)

    def release_after_error(self) -> None:
        """Hand back the unstarted jobs and send the results of a loop that died.

        Called once :meth:`run` raised. A job whose start was marked is not
        handed back here: its lease expires and counts its attempt, as when
        the process dies.
        """
        self._stop.set()
        self._release_all(include_running=False)
        try:
            self._settle_starts()
            self._with_reconnect(self._flush_acks)
        except redis.RedisError as exc:
            logger.warning(
                "worker %s: could not store %d results (%s); their jobs run again "
                "once their leases expire",
                self.name,
                self._pending_acks(),
                exc,
            )

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def run(self, *, burst: bool = False) -> None:
        """Run jobs until stopped; with ``burst``, stop once the queues are empty."""
        heartbeat = Heartbeat(self, max(0.05, self.queue.lease_seconds / 3))
        heartbeat.start()
        self._heartbeat = heartbeat
        self._interrupter = _Interrupter()
        names = ", ".join(queue.name for queue in self.queues)
        logger.info("worker %s started on queue %s", self.name, names)
        try:
            while not self._should_stop():
                worked = self._with_reconnect(self.work_once)
                if worked is False and burst and not self._pending_acks():
                    break
            self._settle_starts()
            self._release_all(include_running=False)
            self._with_reconnect(self._flush_acks)
        finally:
            heartbeat.stop()
            if self._interrupter.in_main:
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
            logger.info("worker %s stopped after %d jobs", self.name, self.jobs_run)

    def _should_stop(self) -> bool:
        self.stop_if_orphaned()
        return self._stop.is_set()

    def stop_if_orphaned(self) -> None:
        """Stop as :meth:`stop` does once the parent process is gone.

        The loop checks between jobs and the heartbeat thread at every beat,
        so a job that runs long does not keep an orphaned worker alive past
        the grace period.
        """
        if self._stop.is_set() or self.parent_pid is None:
            return
        if os.getppid() != self.parent_pid:
            logger.warning(
                "worker %s: parent process %d is gone; stopping",
                self.name,
                self.parent_pid,
            )
            self.stop()

    def _batch_size(self) -> int:
        if self._average <= 0:
            return 1 if self.jobs_run == 0 else self.max_batch
        return max(1, min(self.max_batch, int(self.batch_seconds / self._average)))

    def _pending_acks(self) -> int:
        return sum(len(acks) for acks in self._acks.values())

    def work_once(self) -> bool:
        """Recover expired leases when due, then run one job or wait for one.

        Returns True when a job ran.
        """
        now = time.monotonic()
        if now - self._last_recover >= RECOVER_INTERVAL:
            self._last_recover = now
            self._recover()
            if self.scheduler is not None:
                self.scheduler.run_due()
        with self._lock:
            next_job = self._buffer.popleft() if self._buffer else None
        if next_job is None:
            if self._short_fetch and self.fetch_linger > 0:
                # Let jobs of a slow producer collect into one batch; a
                # stop ends the wait at once.
                self._stop.wait(self.fetch_linger)
            self._settle_starts()
            wait = self._refill()
            with self._lock:
                next_job = self._buffer.popleft() if self._buffer else None
            if next_job is None:
                self._wait_for_jobs(wait)
                return False
        if self._stop.is_set():
            with self._lock:
                self._buffer.appendleft(next_job)
            return False
        queue, job = next_job
        if not self._mark_started(queue, job):
            return False
        self.execute(job, queue)
        return True

    def _mark_started(self, queue: Queue, job: Job) -> bool:
        """Send the mark that counts the attempt of ``job`` before it runs.

        The mark travels with the results waiting to be acknowledged, and
        its reply is read later (:meth:`_settle_starts`): the request is in
        the server's socket buffer before the job starts, and a process
        killed after writing still delivers it, so the attempt is counted
        whenever the job ran, without a wait per job. The marks of
        consecutive short jobs share one connection, so the server applies
        them in order while the worker runs the jobs.
        Returns False when the worker stopped before Redis took the mark.
        """
        key = (job.id, job.token)
        if not self.exact_attempts or key in self._started:
            self._started.discard(key)
            return True
        acks = self._acks.pop(id(queue), [])
        try:
            pending = self._with_reconnect(
                lambda: queue.send_ack_fetch(self.name, 0, acks, start=job)
            )
        except BaseException:
            self._acks.setdefault(id(queue), [])[:0] = acks
            raise
        if pending is None:
            # Stopping while Redis was away: the job was never started.
            self._acks.setdefault(id(queue), [])[:0] = acks
            with self._lock:
                self._buffer.appendleft((queue, job))
            return False
        self._start_replies.append((pending, queue, job, acks))
        return True

    def _settle_starts(self, keep: int = 0) -> None:
        """Read the replies of start marks, oldest first, until ``keep`` are unread."""
        while len(self._start_replies) > keep:
            self._settle_start(*self._start_replies.popleft())

    def _settle_start(
        self,
        pending: PendingBatch,
        queue: Queue,
        job: Job,
        acks: list[tuple[Job, str]],
    ) -> None:
        batch = self._with_reconnect(pending.result)
        if batch is None:
            # Stopping while Redis is away: the acknowledgements go out
            # with the final flush, or the jobs' leases bring them back.
            self._acks.setdefault(id(queue), []).extend(acks)
            return
        log_acked(self.label, acks, batch.acked)
        if len(self.queues) > 1:
            self._flush_acks()
        if not batch.started:
            logger.warning(
                "worker %s: job %s ran without its start mark: its lease had "
                "passed to a newer delivery, which keeps its result",
                self.name,
                job.id,
            )

    def _order(self) -> list[Queue]:
        if len(self.queues) == 1:
            return self.queues
        first = random.choices(self.queues, self.weights)[0]  # noqa: S311 - not secret
        return [first, *(queue for queue in self.queues if queue is not first)]

    def _refill(self) -> float | None:
        """Acknowledge finished jobs and lease the next batch; return the idle wait."""
        wait: float | None = None
        self._short_fetch = False
        for queue in self._order():
            acks = self._acks.pop(id(queue), [])
            count = 0 if self._stop.is_set() else self._batch_size()
            starts = 1 if self.exact_attempts else count
            try:
                batch = queue.ack_fetch(self.name, count, acks, starts=starts)
            except BaseException:
                # Unacknowledged results are kept and sent again, and a
                # repeated acknowledgement of a stored result is a no-op.
                self._acks.setdefault(id(queue), [])[:0] = acks
                raise
            log_acked(self.label, acks, batch.acked)
            if batch.jobs:
                self._short_fetch = len(batch.jobs) < count
                first = batch.jobs[0]
                self._started.add((first.id, first.token))
                with self._lock:
                    self._buffer.extend((queue, job) for job in batch.jobs)
                if self._heartbeat is not None:
                    for job in batch.jobs:
                        self._heartbeat.track(job, queue)
                self._flush_acks()
                return None
            if batch.wait is not None:
                wait = batch.wait if wait is None else min(wait, batch.wait)
        self._short_fetch = True
        return wait if wait is not None else IDLE_WAIT

    def _flush_acks(self) -> None:
        for queue in self.queues:
            acks = self._acks.pop(id(queue), [])
            if acks:
                try:
                    batch = queue.ack_fetch(self.name, 0, acks)
                except BaseException:
                    self._acks.setdefault(id(queue), [])[:0] = acks
                    raise
                log_acked(self.label, acks, batch.acked)

    def _wait_for_jobs(self, wait: float | None) -> None:
        timeout = max(0.01, min(IDLE_WAIT, wait if wait is not None else IDLE_WAIT))
        queue = self.queues[0] if len(self.queues) == 1 else random.choice(self.queues)  # noqa: S311
        # Enqueue pushes a token to the wake list, so a new job ends the wait.
        queue.client.blpop([queue.keys.wake], timeout=timeout)

    def _recover(self) -> None:
        for queue in self.queues:
            log_recovered(self.label, *queue.recover())

    def _hand_back(self) -> None:
        """Release unstarted jobs now; release the running one after the grace."""
        self._release_all(include_running=False)
        if self._idle.wait(self.grace_seconds):
            return
        with self._lock:
            running = self._running
        if running is None:
            return
        logger.warning(
            "worker %s: job %s still running after the %.0f s grace period; "
            "handing it back to the queue",
            self.name,
            running[1].id,
            self.grace_seconds,
        )
        self._release_all(include_running=True)
        if self.on_abandon is not None:
            self.on_abandon()

    def _release_all(self, *, include_running: bool) -> None:
        with self._lock:
            taken = list(self._buffer)
            self._buffer.clear()
            if include_running and self._running is not None:
                taken.append(self._running)
        by_queue: dict[int, tuple[Queue, list[Job]]] = {}
        for queue, job in taken:
            by_queue.setdefault(id(queue), (queue, []))[1].append(job)
        for queue, jobs in by_queue.values():
            try:
                flags = queue.release_many(jobs)
            except CONNECTION_ERRORS as exc:
                logger.warning(
                    "worker %s: could not hand back %d jobs (%s); their leases "
                    "bring them back",
                    self.name,
                    len(jobs),
                    exc,
                )
                continue
            for job, flag in zip(jobs, flags, strict=True):
                self._started.discard((job.id, job.token))
                if self._heartbeat is not None:
                    self._heartbeat.untrack(job)
                if flag:
                    logger.info(
                        "worker %s: job %s handed back to the queue", self.name, job.id
                    )

    def cancel_running(self, job: Job) -> None:
        """Interrupt ``job`` when it is the running one; called by the heartbeat."""
        with self._lock:
            running = self._running
        if running is None or running[1].id != job.id or self._interrupter is None:
            return
        if self._interrupter.interrupt(JobCancelledError(f"job {job.id} cancelled")):
            log_cancelling(self.label, job)

    def execute(self, job: Job, queue: Queue | None = None) -> None:
        """Run ``job`` and store its result, a retry or its failure."""
        queue = queue or self.queue
        logger.debug(
            "worker %s: job %s started, task %s, attempt %d of %d",
            self.name,
            job.id,
            job.task,
            job.attempt,
            job.max_attempts,
        )
        if self._heartbeat is not None:
            self._heartbeat.track(job, queue)
        with self._lock:
            self._running = (queue, job)
            self._idle.clear()
        started = time.monotonic()
        try:
            self._run_task(job, queue)
            elapsed = time.monotonic() - started
            # With exact attempts the next call, which marks the next start
            # or fetches, carries the result at once.
            if not self.exact_attempts and (
                elapsed >= self.ack_now_seconds
                or self._pending_acks() >= self.max_unacked
            ):
                self._with_reconnect(self._flush_acks)
        finally:
            with self._lock:
                self._running = None
                self._idle.set()
            if self._heartbeat is not None:
                self._heartbeat.untrack(job)
            self.jobs_run += 1
            elapsed = time.monotonic() - started
            self._average = (
                elapsed if self._average <= 0 else (0.8 * self._average + 0.2 * elapsed)
            )

    def _invoke(self, job: Job, queue: Queue) -> Any:
        function = self.lookup(job.task)
        context = JobContext(self, job, job.task, queue)
        interrupter = self._interrupter
        timer: threading.Timer | None = None
        if interrupter is not None:
            interrupter.arm()
            if job.timeout:
                error = JobTimeoutError(
                    f"job {job.id} ran longer than its timeout of {job.timeout} s"
                )
                timer = threading.Timer(job.timeout, interrupter.interrupt, (error,))
                timer.daemon = True
                timer.start()
        try:
            return function(context, dict(job.payload))
        except (JobCancelledError, JobTimeoutError) as exc:
            pending = interrupter.pending if interrupter is not None else None
            if pending is not None and type(pending) is type(exc):
                # In a worker thread the interrupt raised a bare instance
                # of the class; the pending one names the job and the limit.
                raise pending from None
            raise
        finally:
            pending = interrupter.disarm() if interrupter is not None else None
            if timer is not None:
                timer.cancel()
            if pending is not None and not isinstance(
                pending, JobCancelledError | JobTimeoutError
            ):
                raise pending

    def _run_task(self, job: Job, queue: Queue) -> None:
        try:
            try:
                result = self._invoke(job, queue)
            finally:
                self._settle_starts(keep=MAX_UNREAD_MARKS)
            text = dump_json(result, result_label(job))
        except Exception as exc:  # noqa: BLE001 - any task error is the job's failure
            self._record_failure(job, queue, exc)
            return
        self._acks.setdefault(id(queue), []).append((job, text))

    def _record_failure(self, job: Job, queue: Queue, exc: Exception) -> None:
        retry, state = failure_kind(exc)
        delay = retry_delay(job.attempt, self.retry_backoff) if retry else None
        outcome = self._with_reconnect(
            lambda: queue.fail(job, error_text(exc), delay, state=state)
        )
        log_failure(self.label, job, exc, outcome, retry=retry, delay=delay)

    def _with_reconnect(self, call: Callable[[], T]) -> T | None:
        """Run ``call``, waiting for Redis to come back after a lost connection.

        Returns None when the worker is asked to stop before Redis is back.
        """
        reconnect = Reconnect(self.label)
        while True:
            try:
                result = call()
            except CONNECTION_ERRORS as exc:
                delay = reconnect.lost(exc)
                if self._should_stop() and not self._pending_acks():
                    return None
                time.sleep(delay)
                continue
            reconnect.done()
            return result
