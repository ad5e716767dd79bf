"""The synchronous job queue on Redis."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import redis

from sentinel.queue import _scripts
from sentinel.queue._errors import QueueError
from sentinel.queue._job import (
    DONE,
    FAILED,
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


def connect(url: str) -> redis.Redis:
    """Return a Redis client for ``url`` that decodes replies as UTF-8 text."""
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)


class Queue:
    """One named job queue: enqueue, fetch, finish, fail and inspect jobs.

    Every state change is one script call, so any number of workers on any
    number of machines can share a queue. Instances are thread-safe because
    the Redis client takes a pooled connection per call.
    """

    def __init__(
        self,
        client: redis.Redis,
        name: str = DEFAULT_NAME,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        result_ttl: float = DEFAULT_RESULT_TTL,
        failed_ttl: float = DEFAULT_FAILED_TTL,
        history: int = DEFAULT_HISTORY,
    ) -> None:
        if max_retries < 0:
            raise QueueError(
                f"max_retries is {max_retries}; expected 0 or more retries"
            )
        if lease_seconds <= 0:
            raise QueueError(
                f"lease_seconds is {lease_seconds}; expected a positive number"
            )
        self.client = client
        self.name = name
        self.keys = QueueKeys(name)
        self.max_retries = max_retries
        self.lease_seconds = lease_seconds
        self.result_ttl = result_ttl
        self.failed_ttl = failed_ttl
        self.history = history
        self._key_list = [getattr(self.keys, key) for key in _scripts.KEY_ORDER]
        self._enqueue = client.register_script(_scripts.ENQUEUE)
        self._fetch = client.register_script(_scripts.FETCH)
        self._heartbeat = client.register_script(_scripts.HEARTBEAT)
        self._finish = client.register_script(_scripts.FINISH)
        self._fail = client.register_script(_scripts.FAIL)
        self._release = client.register_script(_scripts.RELEASE)
        self._recover = client.register_script(_scripts.RECOVER)
        self._read = client.register_script(_scripts.READ)
        self._counts = client.register_script(_scripts.COUNTS)

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
    ) -> str:
        """Add a job for ``task`` and return its id.

        With ``unique_key``, nothing is added while an unfinished job holds
        that key; the id of that job is returned instead.
        """
        retries = self.max_retries if max_retries is None else max_retries
        if retries < 0:
            raise QueueError(f"max_retries is {retries}; expected 0 or more retries")
        job_id = new_job_id()
        spec = encode_spec(job_id, task, payload, retries + 1, unique_key)
        reply = self._call(self._enqueue, job_id, spec, retries + 1, unique_key or "")
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

    def fetch(self, worker: str) -> Job | float | None:
        """Take the oldest queued job and lease it to ``worker``.

        Returns the job, or when none is queued, the seconds until the next
        retry is due, or None when no retry is waiting either.
        """
        reply = self._call(self._fetch, self.lease_seconds, worker, BATCH)
        job_id = str(reply[0])
        if job_id:
            return Job.from_fetch(job_id, reply[1], reply[2])
        return float(reply[1]) if reply[1] else None

    def heartbeat(self, jobs: Sequence[Job]) -> list[bool]:
        """Renew the leases of ``jobs``; False marks a job this worker lost."""
        if not jobs:
            return []
        args: list[Any] = [self.lease_seconds]
        for job in jobs:
            args.extend((job.id, job.token))
        return [bool(flag) for flag in self._call(self._heartbeat, *args)]

    def finish(self, job: Job, result: Any) -> bool:
        """Store the result of ``job``; False when its lease went to another worker."""
        text = dump_json(result, f"result of job {job.id} (task {job.task!r})")
        stored = self._call(
            self._finish, job.id, job.token, text, self.result_ttl, self.history
        )
        return bool(stored)

    def fail(self, job: Job, error: str, retry_in: float | None) -> str:
        """Record a failed attempt of ``job``.

        With ``retry_in`` seconds, the job is retried after that delay while
        attempts remain; with None it fails for good. Returns ``"retry"``,
        ``"failed"`` or ``"stale"`` (another worker owns the job now).
        """
        delay = -1.0 if retry_in is None else max(0.0, retry_in)
        outcome = self._call(
            self._fail, job.id, job.token, error, delay, self.failed_ttl, self.history
        )
        return str(outcome)

    def release(self, job: Job) -> bool:
        """Give ``job`` back to the head of the queue without using up the attempt."""
        return bool(self._call(self._release, job.id, job.token))

    def recover(self) -> tuple[list[str], list[str]]:
        """Requeue or fail jobs whose lease expired and delete expired records.

        Returns the ids of the requeued jobs and of the jobs that failed
        because no attempt was left.
        """
        requeued, failed = self._call(
            self._recover, BATCH, self.failed_ttl, self.history
        )
        return [str(job_id) for job_id in requeued], [str(job_id) for job_id in failed]

    def progress(self, job_id: str, fraction: float, message: str = "") -> None:
        """Store the last progress report of a running job."""
        report = {"fraction": max(0.0, min(1.0, fraction)), "message": message}
        self.client.hset(self.keys.progress, job_id, dump_json(report, "progress"))

    def counts(self) -> dict[str, int]:
        """Count jobs by state: queued, active, delayed, and done and failed ever."""
        queued, active, delayed, done, failed = self._call(self._counts)
        return {
            "queued": int(queued),
            "active": int(active),
            "delayed": int(delayed),
            "done": int(done),
            "failed": int(failed),
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
        if limit <= 0:
            return []
        return self._records(self._call(self._read, state, limit))

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
        self.client.delete(*self._key_list)

    def __repr__(self) -> str:
        return f"<Queue {self.name!r}>"
