"""The synchronous job queue on Redis."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sentinel.queue import _scripts
from sentinel.queue._errors import QueueError
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
)
from sentinel.queue._keys import QueueKeys

logger = logging.getLogger(__name__)

DEFAULT_NAME = "default"
DEFAULT_MAX_RETRIES = 3
DEFAULT_LEASE_SECONDS = 30.0
# Done jobs keep their result for a day, failed ones for a week.
DEFAULT_RESULT_TTL = 24 * 3600.0
DEFAULT_FAILED_TTL = 7 * 24 * 3600.0
# How many done and failed job ids recent() can list.
DEFAULT_HISTORY = 1000
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
    when no job was leased, the seconds until a delayed job is due, or None.
    """

    acked: list[bool]
    jobs: list[Job]
    wait: float | None


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


class Queue:
    """One named job queue: enqueue, fetch, finish, fail and inspect jobs.

    Every state change is one script call, so any number of workers on any
    number of machines can share a queue. Instances are thread-safe because
    the Redis client takes a pooled connection per call. ``client`` may be a
    ``redis.Redis``, a ``redis.cluster.RedisCluster`` or a Sentinel master.

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
        register = client.register_script
        self._enqueue = register(_scripts.ENQUEUE)
        self._enqueue_tick = register(_scripts.ENQUEUE_TICK)
        self._ack_fetch = register(_scripts.ACK_FETCH)
        self._heartbeat = register(_scripts.HEARTBEAT)
        self._fail = register(_scripts.FAIL)
        self._release = register(_scripts.RELEASE)
        self._progress = register(_scripts.PROGRESS)
        self._recover = register(_scripts.RECOVER)
        self._cancel = register(_scripts.CANCEL)
        self._requeue = register(_scripts.REQUEUE)
        self._purge = register(_scripts.PURGE)
        self._read = register(_scripts.READ)
        self._counts = register(_scripts.COUNTS)

    @classmethod
    def from_url(cls, url: str, name: str = DEFAULT_NAME, **options: Any) -> Queue:
        """Connect to ``url`` and return the queue ``name`` there."""
        return cls(connect(url), name, **options)

    @classmethod
    def from_config(cls, section: Mapping[str, Any], url: str | None = None) -> Queue:
        """Build the queue that the ``queue`` config section describes."""
        url = url or section.get("url")
        if not url:
            raise QueueError(
                "queue.url is not set; set it (for example with "
                "SENTINEL__QUEUE__URL=redis://127.0.0.1:6379/0) or start the "
                "workers through 'sentinel run', which provides the embedded server"
            )
        return cls.from_url(
            str(url),
            str(section.get("name") or DEFAULT_NAME),
            max_retries=int(section.get("max_retries", DEFAULT_MAX_RETRIES)),
            lease_seconds=float(section.get("lease_seconds", DEFAULT_LEASE_SECONDS)),
            concurrency=int(section.get("concurrency") or 0),
            rate_limit=float(section.get("rate_limit") or 0.0),
        )

    def _call(self, script: Any, *args: Any) -> Any:
        return script(keys=self._key_list, args=list(args))

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

        With ``unique_key``, nothing is added while an unfinished job holds
        that key; the id of that job is returned instead. Jobs of higher
        ``priority`` run first; ``delay`` seconds keep the job waiting in
        Redis first; ``timeout`` seconds bound each attempt.
        """
        job_id = new_job_id()
        args = self._enqueue_args(
            job_id,
            task,
            payload,
            max_retries=max_retries,
            unique_key=unique_key,
            priority=priority,
            delay=delay,
            timeout=timeout,
        )
        reply = self._call(self._enqueue, *args)
        queued_id, created = str(reply[0]), int(reply[1])
        if created:
            logger.debug("job %s enqueued for task %s", queued_id, task)
        else:
            logger.debug(
                "job %s already holds unique key %r; not enqueued again",
                queued_id,
                unique_key,
            )
        return queued_id

    def _enqueue_args(
        self,
        job_id: str,
        task: str,
        payload: Mapping[str, Any],
        *,
        max_retries: int | None,
        unique_key: str | None,
        priority: int,
        delay: float,
        timeout: float | None,
    ) -> list[Any]:
        retries = self.max_retries if max_retries is None else max_retries
        if retries < 0:
            raise QueueError(f"max_retries is {retries}; expected 0 or more retries")
        if abs(priority) > _scripts.PRIORITY_LIMIT:
            raise QueueError(
                f"priority is {priority}; expected -{_scripts.PRIORITY_LIMIT} to "
                f"{_scripts.PRIORITY_LIMIT}"
            )
        if timeout is not None and timeout <= 0:
            raise QueueError(f"timeout is {timeout}; expected a positive number")
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
        job_id = new_job_id()
        args = self._enqueue_args(
            job_id,
            task,
            payload,
            max_retries=max_retries,
            unique_key=None,
            priority=priority,
            delay=0.0,
            timeout=None,
        )
        reply = self._call(self._enqueue_tick, tick, TICK_MARKER_TTL, *args)
        return str(reply) or None

    def ack_fetch(
        self,
        worker: str,
        count: int,
        done: Iterable[tuple[Job, str]] = (),
    ) -> Batch:
        """Acknowledge finished jobs and lease up to ``count`` new ones, in one call.

        ``done`` holds each finished job with its result already encoded as
        JSON text (see :func:`sentinel.queue.dump_json`).
        """
        args: list[Any] = [
            self.lease_seconds,
            worker,
            count,
            self.result_ttl,
            self.history,
            self.concurrency,
            self.rate_limit,
            self.rate_burst,
        ]
        for job, text in done:
            args.extend((job.id, job.token, text))
        acks, flat, wait = self._call(self._ack_fetch, *args)
        jobs = [
            Job.from_fetch(str(flat[i]), flat[i + 1], flat[i + 2])
            for i in range(0, len(flat), 3)
        ]
        return Batch([bool(flag) for flag in acks], jobs, float(wait) if wait else None)

    def fetch(self, worker: str) -> Job | float | None:
        """Take the next queued job and lease it to ``worker``.

        Returns the job, or when none is queued, the seconds until the next
        delayed job is due, or None when no job is waiting at all.
        """
        batch = self.ack_fetch(worker, 1)
        return batch.jobs[0] if batch.jobs else batch.wait

    def fetch_many(self, worker: str, count: int) -> list[Job]:
        """Lease up to ``count`` queued jobs to ``worker`` in one call."""
        return self.ack_fetch(worker, count).jobs

    def heartbeat(self, jobs: Sequence[Job]) -> list[bool]:
        """Renew the leases of ``jobs``; False marks a job this worker lost."""
        return [flag > 0 for flag in self.heartbeat_flags(jobs)]

    def heartbeat_flags(self, jobs: Sequence[Job]) -> list[int]:
        """Renew leases: 1 renewed, 0 lost, 2 renewed with cancellation requested."""
        if not jobs:
            return []
        args: list[Any] = [self.lease_seconds]
        for job in jobs:
            args.extend((job.id, job.token))
        return [int(flag) for flag in self._call(self._heartbeat, *args)]

    def finish(self, job: Job, result: Any) -> bool:
        """Store the result of ``job``; False when its lease went to another worker."""
        text = dump_json(result, f"result of job {job.id} (task {job.task!r})")
        return self.ack_fetch("", 0, [(job, text)]).acked[0]

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
        delay = -1.0 if retry_in is None else max(0.0, retry_in)
        outcome = self._call(
            self._fail,
            job.id,
            job.token,
            error,
            delay,
            self.failed_ttl,
            self.history,
            state,
        )
        return str(outcome)

    def release(self, job: Job) -> bool:
        """Give ``job`` back to the head of the queue without using up the attempt."""
        return self.release_many([job])[0]

    def release_many(self, jobs: Sequence[Job]) -> list[bool]:
        """Give several leased jobs back at once; False marks a stale one."""
        if not jobs:
            return []
        args: list[Any] = []
        for job in jobs:
            args.extend((job.id, job.token))
        return [bool(flag) for flag in self._call(self._release, *args)]

    def recover(self) -> tuple[list[str], list[str]]:
        """Requeue or fail jobs whose lease expired and delete expired records.

        Returns the ids of the requeued jobs and of the jobs that failed
        because no attempt was left.
        """
        requeued, failed = self._call(
            self._recover, BATCH, self.failed_ttl, self.history, self.lease_seconds
        )
        return [str(job_id) for job_id in requeued], [str(job_id) for job_id in failed]

    def progress(self, job: Job, fraction: float, message: str = "") -> bool:
        """Store the last progress report of ``job`` while this delivery holds it.

        Returns False (and stores nothing) when the job's lease passed to a
        newer delivery or the job finished.
        """
        report = {"fraction": max(0.0, min(1.0, fraction)), "message": message}
        text = dump_json(report, "progress")
        return bool(self._call(self._progress, job.id, job.token, text))

    def cancel(self, job_id: str) -> str:
        """Cancel a job.

        A queued or delayed job is cancelled at once (``"cancelled"``); a
        running one is stopped by its worker after the next heartbeat
        (``"cancelling"``). Returns ``"finished"`` for a job that already
        ended and ``"unknown"`` for an id the queue does not hold.
        """
        return str(self._call(self._cancel, job_id, self.failed_ttl, self.history))

    def requeue(self, job_id: str) -> bool:
        """Queue a failed or cancelled job again with fresh attempts."""
        return bool(self._call(self._requeue, job_id))

    def purge(self, state: str, limit: int = 10_000) -> int:
        """Delete up to ``limit`` jobs in ``state`` (queued, delayed, done, failed)."""
        if state not in (QUEUED, DELAYED, DONE, FAILED):
            raise QueueError(
                f"cannot purge state {state!r}; expected queued, delayed, done or "
                f"failed (active jobs belong to their workers)"
            )
        return int(self._call(self._purge, state, limit))

    def counts(self) -> dict[str, int]:
        """Count jobs by state: queued, active, delayed, and finished ever."""
        queued, active, delayed, done, failed, cancelled = self._call(self._counts)
        return {
            "queued": int(queued),
            "active": int(active),
            "delayed": int(delayed),
            "done": int(done),
            "failed": int(failed),
            "cancelled": int(cancelled),
        }

    def get(self, job_id: str) -> dict[str, Any] | None:
        """Return the job ``job_id`` as a dict, or None when unknown or expired."""
        records = self._records(self._call(self._read, "ids", job_id))
        return records[0] if records else None

    def recent(self, state: str, limit: int = 50) -> list[dict[str, Any]]:
        """List the most recent ``done`` or ``failed`` jobs, newest first."""
        if state not in (DONE, FAILED):
            raise QueueError(
                f"state {state!r} has no history; expected {DONE!r} or {FAILED!r}"
            )
        return self.jobs(state, limit)

    def jobs(
        self, state: str, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """List jobs in ``state``, one page of ``limit`` from ``offset``.

        Queued jobs come in the order they will run, delayed ones by due
        time, active ones by lease deadline, done and failed newest first.
        """
        if state not in (QUEUED, ACTIVE, DELAYED, DONE, FAILED):
            raise QueueError(
                f"state {state!r} is not listed; expected one of queued, active, "
                f"delayed, done, failed"
            )
        if limit <= 0:
            return []
        return self._records(self._call(self._read, state, limit, max(0, offset)))

    @staticmethod
    def _records(flat: list[Any]) -> list[dict[str, Any]]:
        records = []
        for i in range(0, len(flat), 5):
            record = job_record(*flat[i : i + 5])
            if record is not None:
                records.append(record)
        return records

    def clear(self) -> None:
        """Delete every key of this queue, jobs and history included."""
        for key in self._key_list:
            self.client.delete(key)

    def __repr__(self) -> str:
        return f"<Queue {self.name!r}>"


__all__ = ["CANCELLED", "Batch", "Queue", "connect"]
