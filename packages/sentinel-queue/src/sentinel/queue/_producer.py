"""A producer that enqueues jobs from a background thread, many per script call."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import redis

from sentinel.queue._errors import EnqueueError, QueueError

if TYPE_CHECKING:
    from sentinel.queue._queue import Queue

logger = logging.getLogger(__name__)

MAX_LINGER = 1.0
# Back-off between attempts while the server cannot be reached.
FIRST_RETRY = 0.05
LAST_RETRY = 2.0


class Producer:
    """Enqueue jobs to one queue in the background, many per script call.

    :meth:`enqueue` checks and encodes the job, assigns its id and returns
    at once. A thread of the producer sends the waiting jobs after at most
    ``linger`` seconds, up to ``max_batch`` jobs per call of the enqueue
    script, so a busy producer spends one round trip per batch instead of
    one per job. Jobs keep their order. A job is in Redis once
    :meth:`flush` or :meth:`close` returns. Leaving a ``with`` block closes
    the producer, and so does the end of the interpreter. Until then a
    crash of the process loses the job, which is the price of not waiting
    for each job. Use :meth:`Queue.enqueue` where each job must be stored
    before the call returns, or where a unique key's existing job id is
    needed.

    While the server cannot be reached the jobs wait and are sent again
    with back-off, and :meth:`enqueue` blocks once ``max_pending`` jobs
    wait. Jobs that the server rejects are reported by an
    :class:`EnqueueError` naming their ids, raised by the next
    :meth:`enqueue`, :meth:`flush` or :meth:`close`. Create producers
    after forking: the thread does not survive a fork.
    """

    def __init__(
        self,
        queue: Queue,
        *,
        linger: float,
        max_batch: int,
        max_pending: int,
    ) -> None:
        if not 0 <= linger <= MAX_LINGER:
            raise QueueError(f"linger is {linger}; expected 0 to {MAX_LINGER} seconds")
        if max_batch < 1 or max_pending < max_batch:
            raise QueueError(
                f"max_batch {max_batch} and max_pending {max_pending}: expected "
                f"1 <= max_batch <= max_pending"
            )
        self.queue = queue
        self.linger = linger
        self.max_batch = max_batch
        self.max_pending = max_pending
        self._groups: list[list[Any]] = []
        self._condition = threading.Condition()
        # Jobs accepted by enqueue() and jobs the thread has settled (stored
        # or reported as failed). A flush waits until the two counts meet.
        self._accepted = 0
        self._settled = 0
        self._flushing = 0
        self._failures: list[EnqueueError] = []
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name=f"producer-{queue.name}", daemon=True
        )
        self._thread.start()
        atexit.register(self.close)

    def __enter__(self) -> Producer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Producer(queue={self.queue.name!r}, linger={self.linger})"

    @property
    def pending(self) -> int:
        """How many accepted jobs are not yet stored or reported."""
        with self._condition:
            return self._accepted - self._settled

    def enqueue(
        self,
        task: str,
        payload: Mapping[str, Any],
        *,
        max_retries: int | None = None,
        priority: int = 0,
        delay: float = 0.0,
        timeout: float | None = None,
    ) -> str:
        """Accept a job for ``task`` and return its id; it is sent shortly.

        The options mean what they mean for :meth:`Queue.enqueue`; a bad
        option or payload raises here, in the caller.
        """
        group = self.queue._enqueue_args(
            task,
            payload,
            max_retries=max_retries,
            priority=priority,
            delay=delay,
            timeout=timeout,
        )
        with self._condition:
            self._raise_failures()
            if self._closed:
                raise QueueError(
                    f"the producer of queue {self.queue.name!r} is closed; "
                    f"create a new one with Queue.producer()"
                )
            while len(self._groups) >= self.max_pending:
                self._condition.wait()
            self._groups.append(group)
            self._accepted += 1
            waiting = len(self._groups)
            if waiting in {1, self.max_batch}:
                self._condition.notify_all()
        job_id: str = group[0]
        return job_id

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every job accepted so far is stored.

        Raises :class:`EnqueueError` for jobs the server rejected, and
        :class:`QueueError` when ``timeout`` seconds pass first (the jobs
        are still sent afterwards).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            target = self._accepted
            self._flushing += 1
            self._condition.notify_all()
            try:
                while self._settled < target:
                    remaining = (
                        None if deadline is None else deadline - time.monotonic()
                    )
                    if remaining is not None and remaining <= 0:
                        raise QueueError(
                            f"{target - self._settled} jobs of queue "
                            f"{self.queue.name!r} were not stored within {timeout} "
                            f"seconds; is the Redis server reachable?"
                        )
                    self._condition.wait(remaining)
            finally:
                self._flushing -= 1
            self._raise_failures()

    def close(self, timeout: float | None = None) -> None:
        """Store the waiting jobs and stop the thread; later enqueues raise."""
        atexit.unregister(self.close)
        try:
            self.flush(timeout)
        finally:
            with self._condition:
                self._closed = True
                self._condition.notify_all()
            if self._thread is not threading.current_thread():
                self._thread.join(timeout)

    def _raise_failures(self) -> None:
        if self._failures:
            failures, self._failures = self._failures, []
            if len(failures) == 1:
                raise failures[0]
            ids = [job_id for failure in failures for job_id in failure.job_ids]
            raise EnqueueError(f"{len(ids)} jobs were not stored: {failures[0]}", ids)

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            self._send(batch)
            with self._condition:
                self._settled += len(batch)
                self._condition.notify_all()

    def _take(self) -> list[list[Any]] | None:
        """Wait for jobs, let more collect for ``linger`` seconds, take a batch."""
        with self._condition:
            while not self._groups:
                if self._closed:
                    return None
                self._condition.wait()
            deadline = time.monotonic() + self.linger
            while (
                len(self._groups) < self.max_batch
                and not self._flushing
                and not self._closed
            ):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            batch = self._groups[: self.max_batch]
            del self._groups[: self.max_batch]
            self._condition.notify_all()
            return batch

    def _send(self, batch: list[list[Any]]) -> None:
        """Store one batch, waiting out connection errors; report rejected jobs."""
        queue = self.queue
        retry = FIRST_RETRY
        outage = False
        while True:
            try:
                queue._run(queue._enqueue_many_call(batch))
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if not outage:
                    outage = True
                    logger.warning(
                        "producer of queue %s: Redis cannot be reached (%s); "
                        "%d jobs wait and are sent when it is back",
                        queue.name,
                        exc,
                        len(batch),
                    )
                time.sleep(retry)
                retry = min(retry * 2, LAST_RETRY)
                continue
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                ids = [str(group[0]) for group in batch]
                logger.error(
                    "producer of queue %s: %d jobs were not stored: %s",
                    queue.name,
                    len(batch),
                    exc,
                )
                with self._condition:
                    self._failures.append(
                        EnqueueError(
                            f"{len(ids)} jobs of queue {queue.name!r} were not "
                            f"stored: {exc}",
                            ids,
                        )
                    )
                return
            if outage:
                logger.warning(
                    "producer of queue %s: Redis is back; %d waiting jobs stored",
                    queue.name,
                    len(batch),
                )
            return
