"""Task contexts, failure outcomes and log lines shared by the sync and async workers.

Nothing here does I/O: the workers make the Redis calls and sleep their
own way, and hand the replies here to decide what happens next and what
to log. ``worker`` arguments are the label a log line opens with, such as
``"worker host.12.ab3f"`` or ``"async worker host.12.ab3f"``.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from sentinel.core import MissingDependencyError, PermanentTaskError, UnknownTypeError
from sentinel.queue._errors import JobCancelledError, JobEncodingError
from sentinel.queue._job import CANCELLED, FAILED, Job
from sentinel.queue._queue import RETRY, STALE

logger = logging.getLogger(__name__)

# Retry delays grow from retry_backoff by doubling up to this many seconds.
MAX_BACKOFF = 300.0
# Reconnection attempts start this many seconds apart and double up to the cap.
RECONNECT_FIRST = 0.1
RECONNECT_CAP = 2.0
# Errors that retrying cannot fix: the job fails at once.
PERMANENT_ERRORS = (
    PermanentTaskError,
    UnknownTypeError,
    MissingDependencyError,
    JobEncodingError,
)


class HasConfig(Protocol):
    """A worker as its task contexts see it."""

    @property
    def config(self) -> Mapping[str, Any]: ...


W = TypeVar("W", bound=HasConfig)


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


def failure_kind(exc: BaseException) -> tuple[bool, str]:
    """Return whether the failure ``exc`` is retried, and the state it ends in."""
    if isinstance(exc, JobCancelledError):
        return False, CANCELLED
    if isinstance(exc, PERMANENT_ERRORS):
        return False, FAILED
    return True, FAILED


def error_text(exc: BaseException) -> str:
    """Return the error stored with a failed job: the exception's type and text."""
    return f"{type(exc).__name__}: {exc}"


def escape_control(text: str) -> str:
    """Return ``text``, or its ``repr`` when it contains a non-printable character.

    Log lines and table rows carry job data such as file names, so a newline
    in one must not start a line that looks like another record.
    """
    return text if text.isprintable() else repr(text)


def result_label(job: Job) -> str:
    """Name the result of ``job`` in an encoding error."""
    return f"result of job {job.id} (task {job.task!r})"


class BaseJobContext(Generic[W]):
    """The :class:`sentinel.core.TaskContext` fields of one delivery of a job."""

    def __init__(self, worker: W, job: Job, task: str) -> None:
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


class Reconnect:
    """The delays and log lines of one wait for a lost Redis connection."""

    def __init__(self, worker: str) -> None:
        self._worker = worker
        self._delay = RECONNECT_FIRST
        self._lost = False

    def lost(self, exc: BaseException) -> float:
        """Note a failed call; return the seconds to wait before the next one."""
        if not self._lost:
            logger.warning(
                "%s lost its Redis connection (%s); reconnecting", self._worker, exc
            )
            self._lost = True
        delay = self._delay
        self._delay = min(RECONNECT_CAP, delay * 2)
        return delay

    def done(self) -> None:
        """Note a call that went through."""
        if self._lost:
            logger.info("%s reconnected to Redis; consuming jobs again", self._worker)


def log_failure(
    worker: str,
    job: Job,
    exc: BaseException,
    outcome: str | None,
    *,
    retry: bool,
    delay: float | None,
) -> None:
    """Log what became of ``job`` after the failure ``exc`` was recorded."""
    error = escape_control(error_text(exc))
    if outcome == RETRY:
        logger.info(
            "%s: job %s attempt %d of %d failed (%s); retrying in %.2f s",
            worker,
            job.id,
            job.attempt,
            job.max_attempts,
            error,
            delay or 0.0,
        )
    elif outcome == STALE:
        logger.warning(
            "%s: job %s failure discarded: its lease passed to a newer delivery (%s)",
            worker,
            job.id,
            error,
        )
    elif outcome == CANCELLED:
        logger.info("%s: job %s cancelled", worker, job.id)
    elif not retry:
        # A permanent error is an expected rejection, such as a malformed
        # file, so its message is enough and a traceback would be noise.
        logger.error("%s: job %s failed without retry: %s", worker, job.id, error)
    else:
        logger.error(
            "%s: job %s failed after %d of %d attempts: %s",
            worker,
            job.id,
            job.attempt,
            job.max_attempts,
            error,
            exc_info=exc,
        )


def log_acked(
    worker: str, acks: Iterable[tuple[Job, str]], flags: Sequence[bool]
) -> None:
    """Log the acknowledged results, warning of those a newer delivery owns."""
    for (job, _), stored in zip(acks, flags, strict=True):
        if stored:
            logger.debug("%s: job %s done", worker, job.id)
        else:
            logger.warning(
                "%s: job %s result discarded: its lease passed to a newer delivery",
                worker,
                job.id,
            )


def log_recovered(worker: str, requeued: Sequence[str], failed: Sequence[str]) -> None:
    """Log the jobs that a recovery found with expired leases."""
    for job_id in requeued:
        logger.warning("%s: job %s lease expired; queued again", worker, job_id)
    for job_id in failed:
        logger.error(
            "%s: job %s failed: lease expired on its last attempt", worker, job_id
        )


def log_lease_lost(worker: str, job: Job) -> None:
    """Log that the heartbeat found the lease of ``job`` taken over."""
    logger.warning(
        "%s: job %s lease lost; another worker may run it again", worker, job.id
    )


def log_cancelling(worker: str, job: Job) -> None:
    """Log that the running ``job`` is being interrupted on request."""
    logger.info("%s: job %s cancelled; interrupting it", worker, job.id)
