"""Several worker loops in threads of one process, sharing its client and tasks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sentinel.core import ConfigError
from sentinel.queue._worker import Worker

logger = logging.getLogger(__name__)

DEFAULT_THREADS = 1
MAX_THREADS = 256
# Seconds between the supervisor's checks of its loops.
SUPERVISE_INTERVAL = 0.1
# A loop that keeps dying is restarted at most this often.
RESTART_DELAY = 1.0


def threads_setting(value: Any, key: str = "queue.threads") -> int:
    """Return the number of worker threads ``value`` sets, or raise ConfigError."""
    if value is None:
        return DEFAULT_THREADS
    valid = isinstance(value, int) and not isinstance(value, bool)
    if not valid or not 1 <= value <= MAX_THREADS:
        raise ConfigError(
            f"{key} is {value!r}; expected a whole number from 1 to {MAX_THREADS} "
            f"(jobs that one worker process runs at a time); set {key}: 4, for "
            f"example"
        )
    return int(value)


class WorkerThreads:
    """Run ``count`` :class:`Worker` loops, each in a thread of its own.

    ``make_worker(index)`` builds loop ``index`` (0-based); only loop 0
    should get the cron scheduler. Each loop keeps its own name, batches,
    acknowledgements, start marks and heartbeat, so attempts, fencing
    tokens and leases work per job as with one loop per process. The loops
    share the queues' Redis client, whose connection pool is thread-safe.

    :meth:`run` supervises the loops from the calling thread and returns
    the process exit status. It returns 0 once every loop stopped, and 1
    once a running job outlived the grace period of :meth:`stop` and was
    handed back. A thread cannot be stopped, so the caller then exits the
    process. A loop
    that raises is logged and replaced by a new one after
    ``restart_delay`` seconds, rather than ending the process: that would
    cut off the jobs of the other loops, and a process started without a
    pool would not come back.
    """

    def __init__(
        self,
        make_worker: Callable[[int], Worker],
        count: int,
        *,
        burst: bool = False,
        restart_delay: float = RESTART_DELAY,
    ) -> None:
        if not 1 <= count <= MAX_THREADS:
            raise ValueError(f"count is {count}; expected 1 to {MAX_THREADS}")
        self._make_worker = make_worker
        self.burst = burst
        self.restart_delay = restart_delay
        self.restarts = 0
        self.workers = [self._build(index) for index in range(count)]
        self._threads: list[threading.Thread | None] = [None] * count
        self._failed_at: dict[int, float] = {}
        self._abandoned: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._changed = threading.Event()

    @property
    def name(self) -> str:
        """The name of loop 0, which the log lines of the process open with."""
        return self.workers[0].name

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Stop every loop as :meth:`Worker.stop` does; safe in a signal handler."""
        self._stopping.set()
        with self._lock:
            workers = list(self.workers)
        for worker in workers:
            worker.stop()
        self._changed.set()

    def stop_now(self) -> None:
        """Hand back every leased job of every loop, running ones too."""
        self._stopping.set()
        with self._lock:
            workers = list(self.workers)
        for worker in workers:
            worker.stop_now()
        self._changed.set()

    def run(self) -> int:
        """Start the loops and supervise them until they end; return the exit status."""
        for index in range(len(self.workers)):
            self._start(index)
        while True:
            self._changed.wait(SUPERVISE_INTERVAL)
            self._changed.clear()
            self._restart_failed()
            with self._lock:
                ended = [
                    thread is None or not thread.is_alive() for thread in self._threads
                ]
                waiting = bool(self._failed_at) and not self._stopping.is_set()
                abandoned = set(self._abandoned)
            if waiting:
                continue
            if abandoned and all(
                done or index in abandoned for index, done in enumerate(ended)
            ):
                return 1
            if all(ended):
                return 0

    def _build(self, index: int) -> Worker:
        worker = self._make_worker(index)
        worker.on_abandon = lambda: self._on_abandon(index)
        return worker

    def _start(self, index: int) -> None:
        worker = self.workers[index]
        thread = threading.Thread(
            target=self._run_loop,
            args=(index, worker),
            name=f"worker-{worker.name}",
            daemon=True,
        )
        with self._lock:
            self._threads[index] = thread
        thread.start()

    def _run_loop(self, index: int, worker: Worker) -> None:
        try:
            worker.run(burst=self.burst)
        except BaseException:  # a loop that dies is restarted
            logger.exception(
                "worker %s: the worker loop failed; restarting it in %.1f s",
                worker.name,
                self.restart_delay,
            )
            with self._lock:
                self._failed_at[index] = time.monotonic()
            try:
                worker.release_after_error()
            except Exception:  # the leases of its jobs bring them back
                logger.exception(
                    "worker %s: could not hand back the jobs of the failed loop; "
                    "they run again once their leases expire",
                    worker.name,
                )
        finally:
            self._changed.set()

    def _restart_failed(self) -> None:
        now = time.monotonic()
        with self._lock:
            if self._stopping.is_set():
                self._failed_at.clear()
                return
            due = [
                index
                for index, failed_at in self._failed_at.items()
                if now - failed_at >= self.restart_delay
            ]
            for index in due:
                del self._failed_at[index]
                self.workers[index] = self._build(index)
                self.restarts += 1
        for index in due:
            self._start(index)

    def _on_abandon(self, index: int) -> None:
        with self._lock:
            self._abandoned.add(index)
        self._changed.set()
