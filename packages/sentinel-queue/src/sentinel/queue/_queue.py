"""The synchronous job queue on Redis, and what it shares with the asyncio one.

:class:`QueueCore` contains everything but I/O: the settings, the script
sources, the key layout, and for each operation the script, its arguments
and how its reply is decoded (a :class:`Call`). :class:`Queue` runs those
calls with redis-py and ``AsyncQueue`` with redis.asyncio, so both clients
have the same semantics over the same scripts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import redis

from sentinel.queue import _scripts
from sentinel.queue._errors import QueueError
from sentinel.queue._fastcall import Pending, ScriptCaller
from sentinel.queue._job import (
    ACTIVE,
    CANCELLED,
    DELAYED,
    DONE,
    FAILED,
    QUEUED,
    Job,
    dump_json,
    encode_spec,
    job_record,
    new_job_id,
    text,
)
from sentinel.queue._keys import QueueKeys

if TYPE_CHECKING:
    from sentinel.queue._producer import Producer

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_NAME = "default"
DEFAULT_MAX_RETRIES = 3
DEFAULT_LEASE_SECONDS = 30.0
# Done jobs keep their result for a day, failed ones for a week.
DEFAULT_RESULT_TTL = 24 * 3600.0
DEFAULT_FAILED_TTL = 7 * 24 * 3600.0
# How many done and failed job ids recent() can list.
DEFAULT_HISTORY = 1000
# How many jobs Queue.enqueue_many and a Producer add per script call.
ENQUEUE_CHUNK = 500
# How long a Producer lets jobs collect before it sends them, and how many
# unsent jobs it keeps in memory before enqueue() waits.
DEFAULT_LINGER = 0.002
DEFAULT_MAX_PENDING = 100_000
# How many expired leases, due retries or expired records one script call handles.
BATCH = 100

RETRY = "retry"
STALE = "stale"
# How long the marker of an enqueued cron tick is kept: longer than any
# clock skew between schedulers.
TICK_MARKER_TTL = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Batch:
    """The reply of :meth:`Queue.ack_fetch`.

    ``acked`` has one flag per acknowledged job (False: its lease had passed
    to a newer delivery); ``jobs`` are the newly leased jobs; ``wait`` is,
    when no job was leased, the seconds until a delayed job is due, or None;
    ``started`` is True when the job passed as ``start`` was marked started.
    """

    acked: list[bool]
    jobs: list[Job]
    wait: float | None
    started: bool = False


def connect(url: str) -> Any:
    """Return a client for ``url`` that decodes replies as UTF-8 text.

    ``redis://`` and ``rediss://`` give a plain client,
    ``redis+cluster://host:port`` a Redis Cluster client and
    ``redis+sentinel://host:port[,host:port]/service[/db]`` a client of the
    master that Redis Sentinel names. Raises :class:`QueueConnectionError`
    for a URL that cannot be parsed.
    """
    from sentinel.queue._connect import client_for_url

    return client_for_url(url)


# Names of the scripts, as attributes of _scripts, that a queue registers.
SCRIPT_NAMES = (
    "ENQUEUE",
    "ENQUEUE_TICK",
    "ACK_FETCH",
    "HEARTBEAT",
    "FAIL",
    "RELEASE",
    "PROGRESS",
    "RECOVER",
    "CANCEL",
    "REQUEUE",
    "PURGE",
    "READ",
    "COUNTS",
)
LISTED_STATES = (QUEUED, ACTIVE, DELAYED, DONE, FAILED, CANCELLED)
PURGED_STATES = (QUEUED, DELAYED, DONE, FAILED, CANCELLED)
FINISHED_STATES = (DONE, FAILED, CANCELLED)


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One script call: which script, its arguments, and how to decode its reply."""

    script: str
    args: list[Any]
    parse: Callable[[Any], T]


def _records(flat: list[Any]) -> list[dict[str, Any]]:
    records = []
    for i in range(0, len(flat), 5):
        record = job_record(*flat[i : i + 5])
        if record is not None:
            records.append(record)
    return records


def _parse_batch(reply: Any) -> Batch:
    acks, started, flat, wait = reply
    jobs = [
        Job.from_fetch(text(flat[i]), flat[i + 1], flat[i + 2])
        for i in range(0, len(flat), 3)
    ]
    wait_text = text(wait)
    return Batch(
        [bool(flag) for flag in acks],
        jobs,
        float(wait_text) if wait_text else None,
        bool(started),
    )


def _parse_counts(reply: Any) -> dict[str, int]:
    names = (QUEUED, ACTIVE, DELAYED, *FINISHED_STATES)
    return {name: int(count) for name, count in zip(names, reply[:6], strict=True)}


def _parse_state_counts(reply: Any) -> dict[str, dict[str, int]]:
    ever = _parse_counts(reply)
    stored = dict(zip(FINISHED_STATES, map(int, reply[6:]), strict=True))
    now = {QUEUED: ever[QUEUED], ACTIVE: ever[ACTIVE], DELAYED: ever[DELAYED]}
    return {
        "now": now | stored,
        "ever": {state: ever[state] for state in FINISHED_STATES},
    }


def _parse_enqueue(reply: Any) -> tuple[str, bool]:
    return text(reply[0]), bool(int(reply[1]))


def _parse_recover(reply: Any) -> tuple[list[str], list[str]]:
    requeued, failed = reply
    return [text(job_id) for job_id in requeued], [text(job_id) for job_id in failed]


class PendingBatch:
    """An :meth:`Queue.ack_fetch` call that was sent; :meth:`result` reads its reply."""

    def __init__(self, pending: Pending) -> None:
        self._pending = pending

    def result(self) -> Batch:
        """Wait for the reply and return it as a :class:`Batch`."""
        return _parse_batch(self._pending.result())


class QueueCore:
    """The settings and script calls of one named queue, without any I/O.

    ``concurrency`` caps the jobs active at once across all workers and
    ``rate_limit`` the jobs started per second (with bursts of up to
    ``rate_burst``); 0 means no limit.
    """

    def __init__(
        self,
        client: Any,
        name: str = DEFAULT_NAME,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        result_ttl: float = DEFAULT_RESULT_TTL,
        failed_ttl: float = DEFAULT_FAILED_TTL,
        history: int = DEFAULT_HISTORY,
        concurrency: int = 0,
        rate_limit: float = 0.0,
        rate_burst: int | None = None,
    ) -> None:
        if max_retries < 0:
            raise QueueError(
                f"max_retries is {max_retries}; expected 0 or more retries"
            )
        if lease_seconds <= 0:
            raise QueueError(
                f"lease_seconds is {lease_seconds}; expected a positive number"
            )
        if concurrency < 0 or rate_limit < 0:
            raise QueueError(
                f"concurrency {concurrency} and rate_limit {rate_limit} must be "
                f"0 (no limit) or more"
            )
        self.client = client
        self.name = name
        self.keys = QueueKeys(name)
        self.max_retries = max_retries
        self.lease_seconds = lease_seconds
        self.result_ttl = result_ttl
        self.failed_ttl = failed_ttl
        self.history = history
        self.concurrency = concurrency
        self.rate_limit = rate_limit
        self.rate_burst = rate_burst or max(1, int(rate_limit))
        self._key_list = [getattr(self.keys, key) for key in _scripts.KEY_ORDER]
        self._scripts = {
            name: client.register_script(getattr(_scripts, name))
            for name in SCRIPT_NAMES
        }
        self._caller = ScriptCaller(client, self._scripts, self._key_list)

    @staticmethod
    def _options(section: Mapping[str, Any]) -> dict[str, Any]:
        """Return the constructor options that a ``queue`` config section sets."""
        return {
            "max_retries": int(section.get("max_retries", DEFAULT_MAX_RETRIES)),
            "lease_seconds": float(section.get("lease_seconds", DEFAULT_LEASE_SECONDS)),
            "concurrency": int(section.get("concurrency") or 0),
            "rate_limit": float(section.get("rate_limit") or 0.0),
        }

    @staticmethod
    def _config_url(section: Mapping[str, Any], url: str | None) -> str:
        url = url or section.get("url")
        if not url:
            raise QueueError(
                "queue.url is not set; set it (for example with "
                "SENTINEL__QUEUE__URL=redis://127.0.0.1:6379/0) or start the "
                "workers through 'sentinel run', which provides the embedded server"
            )
        return str(url)

    def _enqueue_args(
        self,
        task: str,
        payload: Mapping[str, Any],
        *,
        max_retries: int | None = None,
        unique_key: str | None = None,
        priority: int = 0,
        delay: float = 0.0,
        timeout: float | None = None,
    ) -> list[Any]:
        """Check the options of one job and return its group of ENQUEUE arguments."""
        retries = self.max_retries if max_retries is None else max_retries
        if retries < 0:
            raise QueueError(f"max_retries is {retries}; expected 0 or more retries")
        if abs(priority) > _scripts.PRIORITY_LIMIT:
            raise QueueError(
                f"priority is {priority}; expected -{_scripts.PRIORITY_LIMIT} to "
                f"{_scripts.PRIORITY_LIMIT}"
            )
        if not (math.isfinite(delay) and delay >= 0):
            raise QueueError(
                f"delay is {delay}; expected a finite number of seconds, 0 or more"
            )
        if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
            raise QueueError(
                f"timeout is {timeout}; expected a finite positive number of seconds"
            )
        job_id = new_job_id()
        spec = encode_spec(
            job_id, task, payload, retries + 1, unique_key, timeout=timeout
        )
        return [
            job_id,
            spec,
            retries + 1,
            unique_key or "",
            int(priority),
            float(delay),
        ]

    def _enqueue_call(
        self,
        task: str,
        payload: Mapping[str, Any],
        *,
        max_retries: int | None = None,
        unique_key: str | None = None,
        priority: int = 0,
        delay: float = 0.0,
        timeout: float | None = None,
    ) -> Call[str]:
        args = self._enqueue_args(
            task,
            payload,
            max_retries=max_retries,
            unique_key=unique_key,
            priority=priority,
            delay=delay,
            timeout=timeout,
        )

        def parse(reply: Any) -> str:
            queued_id, created = _parse_enqueue(reply)
            if created:
                logger.debug("job %s enqueued for task %s", queued_id, task)
            else:
                logger.debug(
                    "job %s already has unique key %r; not enqueued again",
                    queued_id,
                    unique_key,
                )
            return queued_id

        return Call("ENQUEUE", args, parse)

    def _enqueue_many_calls(
        self,
        task: str,
        payloads: Iterable[Mapping[str, Any]],
        *,
        max_retries: int | None,
        priority: int,
        delay: float,
        timeout: float | None,
        chunk: int,
    ) -> Iterator[Call[list[str]]]:
        """Yield the ENQUEUE calls of ``chunk`` jobs each, reading payloads lazily."""
        if chunk < 1:
            raise QueueError(f"chunk is {chunk}; expected 1 or more jobs per call")
        groups: list[list[Any]] = []
        for payload in payloads:
            groups.append(
                self._enqueue_args(
                    task,
                    payload,
                    max_retries=max_retries,
                    priority=priority,
                    delay=delay,
                    timeout=timeout,
                )
            )
            if len(groups) >= chunk:
                yield self._enqueue_many_call(groups)
                groups = []
        if groups:
            yield self._enqueue_many_call(groups)

    @staticmethod
    def _enqueue_many_call(groups: Sequence[Sequence[Any]]) -> Call[list[str]]:
        """Return one ENQUEUE call that adds every job of ``groups``.

        Its reply lists each job's id, or for a job whose unique key an
        unfinished job holds, that job's id.
        """
        args = [arg for group in groups for arg in group]
        return Call(
            "ENQUEUE",
            args,
            lambda reply: [text(reply[i]) for i in range(0, len(reply), 2)],
        )

    def _enqueue_tick_call(
        self,
        tick: str,
        task: str,
        payload: Mapping[str, Any],
        *,
        max_retries: int | None = None,
        priority: int = 0,
    ) -> Call[str | None]:
        # The same job as a plain enqueue, behind the marker of its tick.
        enqueue = self._enqueue_call(
            task, payload, max_retries=max_retries, priority=priority
        )
        return Call(
            "ENQUEUE_TICK",
            [tick, TICK_MARKER_TTL, *enqueue.args],
            lambda reply: text(reply) or None,
        )

    def _ack_fetch_call(
        self,
        worker: str,
        count: int,
        done: Iterable[tuple[Job, str]] = (),
        *,
        starts: int | None = None,
        start: Job | None = None,
    ) -> Call[Batch]:
        args: list[Any] = [
            self.lease_seconds,
            worker,
            count,
            self.result_ttl,
            self.history,
            self.concurrency,
            self.rate_limit,
            self.rate_burst,
            count if starts is None else starts,
            start.id if start is not None else "",
            start.token if start is not None else 0,
        ]
        for job, result_text in done:
            args.extend((job.id, job.token, result_text))
        return Call("ACK_FETCH", args, _parse_batch)

    def _heartbeat_call(self, jobs: Sequence[Job]) -> Call[list[int]]:
        args: list[Any] = [self.lease_seconds]
        for job in jobs:
            args.extend((job.id, job.token))
        return Call("HEARTBEAT", args, lambda reply: [int(flag) for flag in reply])

    def _fail_call(
        self, job: Job, error: str, retry_in: float | None, state: str
    ) -> Call[str]:
        delay = -1.0 if retry_in is None else max(0.0, retry_in)
        args = [job.id, job.token, error, delay, self.failed_ttl, self.history, state]
        return Call("FAIL", args, text)

    def _release_call(self, jobs: Sequence[Job]) -> Call[list[bool]]:
        args: list[Any] = []
        for job in jobs:
            args.extend((job.id, job.token))
        return Call("RELEASE", args, lambda reply: [bool(flag) for flag in reply])

    def _recover_call(self) -> Call[tuple[list[str], list[str]]]:
        args = [BATCH, self.failed_ttl, self.history, self.lease_seconds]
        return Call("RECOVER", args, _parse_recover)

    def _progress_call(self, job: Job, fraction: float, message: str) -> Call[bool]:
        report = {"fraction": max(0.0, min(1.0, fraction)), "message": message}
        args = [job.id, job.token, dump_json(report, "progress")]
        return Call("PROGRESS", args, bool)

    def _cancel_call(self, job_id: str) -> Call[str]:
        return Call("CANCEL", [job_id, self.failed_ttl, self.history], text)

    def _requeue_call(self, job_id: str) -> Call[bool]:
        return Call("REQUEUE", [job_id], bool)

    def _purge_call(self, state: str, limit: int) -> Call[int]:
        if state not in PURGED_STATES:
            raise QueueError(
                f"cannot purge state {state!r}; expected one of "
                f"{', '.join(PURGED_STATES)} (active jobs belong to their workers)"
            )
        return Call("PURGE", [state, limit], int)

    def _counts_call(self) -> Call[dict[str, int]]:
        return Call("COUNTS", [], _parse_counts)

    def _state_counts_call(self) -> Call[dict[str, dict[str, int]]]:
        return Call("COUNTS", [self.history], _parse_state_counts)

    def _get_call(self, job_id: str) -> Call[dict[str, Any] | None]:
        def parse(reply: Any) -> dict[str, Any] | None:
            records = _records(reply)
            return records[0] if records else None

        return Call("READ", ["ids", job_id], parse)

    def _jobs_call(
        self, state: str, limit: int, offset: int
    ) -> Call[list[dict[str, Any]]]:
        if state not in LISTED_STATES:
            raise QueueError(
                f"state {state!r} is not listed; expected one of "
                f"{', '.join(LISTED_STATES)}"
            )
        # A READ of no ids returns nothing without touching the lists.
        args: list[Any] = ["ids"] if limit <= 0 else [state, limit, max(0, offset)]
        if state in FINISHED_STATES and limit > 0:
            args.append(self.history)
        return Call("READ", args, _records)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class Queue(QueueCore):
    """One named job queue: enqueue, fetch, finish, fail and inspect jobs.

    Every state change is one script call, so any number of workers on any
    number of machines can share a queue. Instances are thread-safe because
    the Redis client takes a pooled connection per call. ``client`` may be a
    ``redis.Redis`` (decoding replies or not), a
    ``redis.cluster.RedisCluster`` or a Sentinel master.

    ``concurrency`` caps the jobs active at once across all workers and
    ``rate_limit`` the jobs started per second (with bursts of up to
    ``rate_burst``); 0 means no limit.
    """

    #: Errors raised while the server cannot be reached (down, restarting or
    #: unreachable); the same call may succeed when it is tried again later.
    connection_errors: ClassVar[tuple[type[Exception], ...]] = (
        redis.ConnectionError,
        redis.TimeoutError,
    )

    @classmethod
    def from_url(cls, url: str, name: str = DEFAULT_NAME, **options: Any) -> Queue:
        """Connect to ``url`` and return the queue ``name`` there."""
        return cls(connect(url), name, **options)

    @classmethod
    def from_config(cls, section: Mapping[str, Any], url: str | None = None) -> Queue:
        """Build the queue that the ``queue`` config section describes."""
        return cls.from_url(
            cls._config_url(section, url),
            str(section.get("name") or DEFAULT_NAME),
            **cls._options(section),
        )

    def _run(self, call: Call[T]) -> T:
        return call.parse(self._caller.call(call.script, call.args))

    def enqueue(
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
        """Add a job for ``task`` and return its id.

        With ``unique_key``, nothing is added while an unfinished job has
        that key; the id of that job is returned instead. Jobs of higher
        ``priority`` run first; ``delay`` seconds keep the job waiting in
        Redis first; ``timeout`` seconds bound each attempt.
        """
        return self._run(
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

    def enqueue_many(
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
        """Add one job for ``task`` per payload and return their ids, in order.

        The same as calling :meth:`enqueue` for each payload, but ``chunk``
        jobs at a time go out in one script call, which adds them
        atomically. A connection error during a call sends it again (a job
        whose reply was lost can then be queued twice, as with
        :meth:`enqueue`).
        """
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
            stored: list[str] = self._run(call)
            ids.extend(stored)
        logger.debug("%d jobs enqueued for task %s", len(ids), task)
        return ids

    def producer(
        self,
        *,
        linger: float = DEFAULT_LINGER,
        max_batch: int = ENQUEUE_CHUNK,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> Producer:
        """Return a :class:`Producer` that enqueues to this queue in the background."""
        from sentinel.queue._producer import Producer

        return Producer(
            self, linger=linger, max_batch=max_batch, max_pending=max_pending
        )

    def enqueue_tick(
        self,
        tick: str,
        task: str,
        payload: Mapping[str, Any],
        *,
        max_retries: int | None = None,
        priority: int = 0,
    ) -> str | None:
        """Enqueue the job of the cron tick ``tick`` unless it was enqueued before.

        Any number of schedulers may call this for the same tick; exactly
        one call enqueues. Returns the job id, or None for a repeated tick.
        """
        return self._run(
            self._enqueue_tick_call(
                tick, task, payload, max_retries=max_retries, priority=priority
            )
        )

    def ack_fetch(
        self,
        worker: str,
        count: int,
        done: Iterable[tuple[Job, str]] = (),
        *,
        starts: int | None = None,
        start: Job | None = None,
    ) -> Batch:
        """Acknowledge finished jobs and lease up to ``count`` new ones, in one call.

        ``done`` contains each finished job with its result already encoded as
        JSON text (see :func:`sentinel.queue.dump_json`). The first
        ``starts`` leased jobs (default: all) are marked started, which
        counts their attempt; ``start`` marks one job leased earlier. A
        leased job that was never marked started goes back to the queue
        without spending an attempt when its lease ends.
        """
        return self._run(
            self._ack_fetch_call(worker, count, done, starts=starts, start=start)
        )

    def send_ack_fetch(
        self,
        worker: str,
        count: int,
        done: Iterable[tuple[Job, str]] = (),
        *,
        starts: int | None = None,
        start: Job | None = None,
    ) -> PendingBatch:
        """Send an :meth:`ack_fetch` call now and read its reply later.

        The worker marks a job started this way and runs the job while the
        server handles the mark, so counting attempts exactly costs no
        wait. Clients other than a plain ``redis.Redis`` send the call and
        wait for the reply here.
        """
        call = self._ack_fetch_call(worker, count, done, starts=starts, start=start)
        return PendingBatch(self._caller.send(call.script, call.args))

    def fetch(self, worker: str) -> Job | float | None:
        """Take the next queued job, lease it to ``worker`` and mark it started.

        Returns the job, or when none is queued, the seconds until the next
        delayed job is due, or None when no job is waiting at all.
        """
        batch = self.ack_fetch(worker, 1)
        return batch.jobs[0] if batch.jobs else batch.wait

    def fetch_many(self, worker: str, count: int) -> list[Job]:
        """Lease up to ``count`` queued jobs to ``worker`` and mark them started."""
        return self.ack_fetch(worker, count).jobs

    def start(self, job: Job) -> bool:
        """Mark a leased job started; False when its lease passed to another worker."""
        return self.ack_fetch("", 0, start=job).started

    def heartbeat(self, jobs: Sequence[Job]) -> list[bool]:
        """Renew the leases of ``jobs``; False marks a job this worker lost."""
        return [flag > 0 for flag in self.heartbeat_flags(jobs)]

    def heartbeat_flags(self, jobs: Sequence[Job]) -> list[int]:
        """Renew leases: 1 renewed, 0 lost, 2 renewed with cancellation requested."""
        return self._run(self._heartbeat_call(jobs)) if jobs else []

    def finish(self, job: Job, result: Any) -> bool:
        """Store the result of ``job``; False when its lease went to another worker."""
        result_text = dump_json(result, f"result of job {job.id} (task {job.task!r})")
        return self.ack_fetch("", 0, [(job, result_text)]).acked[0]

    def fail(
        self, job: Job, error: str, retry_in: float | None, *, state: str = FAILED
    ) -> str:
        """Record a failed attempt of ``job``.

        With ``retry_in`` seconds, the job is retried after that delay while
        attempts remain; with None it ends in ``state`` (``failed``, or
        ``cancelled`` for a job stopped on request). Returns ``"retry"``,
        ``"failed"``, ``"cancelled"`` or ``"stale"`` (another worker owns the
        job now).
        """
        return self._run(self._fail_call(job, error, retry_in, state))

    def release(self, job: Job) -> bool:
        """Give ``job`` back to the head of the queue without using up the attempt."""
        return self.release_many([job])[0]

    def release_many(self, jobs: Sequence[Job]) -> list[bool]:
        """Give several leased jobs back at once; False marks a stale one."""
        return self._run(self._release_call(jobs)) if jobs else []

    def recover(self) -> tuple[list[str], list[str]]:
        """Requeue or fail jobs whose lease expired and delete expired records.

        Returns the ids of the requeued jobs and of the jobs that failed
        because no attempt was left.
        """
        return self._run(self._recover_call())

    def progress(self, job: Job, fraction: float, message: str = "") -> bool:
        """Store the last progress report of ``job`` while this delivery owns it.

        Returns False (and stores nothing) when the job's lease passed to a
        newer delivery or the job finished.
        """
        return self._run(self._progress_call(job, fraction, message))

    def cancel(self, job_id: str) -> str:
        """Cancel a job.

        A queued or delayed job is cancelled at once (``"cancelled"``); a
        running one is stopped by its worker after the next heartbeat
        (``"cancelling"``). Returns ``"finished"`` for a job that already
        ended and ``"unknown"`` for an id the queue does not hold.
        """
        return self._run(self._cancel_call(job_id))

    def requeue(self, job_id: str) -> bool:
        """Queue a failed or cancelled job again with fresh attempts."""
        return self._run(self._requeue_call(job_id))

    def purge(self, state: str, limit: int = 10_000) -> int:
        """Delete up to ``limit`` jobs in ``state``.

        The state is queued, delayed, done, failed or cancelled.
        """
        return self._run(self._purge_call(state, limit))

    def counts(self) -> dict[str, int]:
        """Count jobs by state: queued, active, delayed, and finished ever.

        ``done``, ``failed`` and ``cancelled`` are totals since the queue was
        created, so they do not drop when jobs expire or are purged.
        """
        return self._run(self._counts_call())

    def state_counts(self) -> dict[str, dict[str, int]]:
        """Count the jobs stored now by state, and the finished jobs ever.

        ``now`` maps every state to the jobs whose records exist now (of
        the finished ones, at most the ``history`` newest per state are
        counted). ``ever`` maps done, failed and cancelled to the totals since
        the queue was created.
        """
        return self._run(self._state_counts_call())

    def get(self, job_id: str) -> dict[str, Any] | None:
        """Return the job ``job_id`` as a dict, or None when unknown or expired."""
        return self._run(self._get_call(job_id))

    def recent(self, state: str, limit: int = 50) -> list[dict[str, Any]]:
        """List up to ``limit`` jobs in ``state``.

        ``done`` and ``failed`` come newest first, ``active`` by lease
        deadline (running jobs), ``queued`` in the order they will run and
        ``delayed`` by due time.
        """
        return self.jobs(state, limit)

    def jobs(
        self, state: str, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """List jobs in ``state``, one page of ``limit`` from ``offset``.

        Queued jobs come in the order they will run, delayed ones by due
        time, active ones by lease deadline, done, failed and cancelled
        newest first.
        """
        return self._run(self._jobs_call(state, limit, offset))

    def clear(self) -> None:
        """Delete every key of this queue, jobs and history included."""
        for key in self._key_list:
            self.client.delete(key)


__all__ = [
    "CANCELLED",
    "Batch",
    "Call",
    "PendingBatch",
    "Queue",
    "QueueCore",
    "connect",
]
