"""A pool of worker processes with a supervisor thread that restarts dead ones."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

# Worker processes stop when this process id is no longer their parent,
# so workers never outlive a supervisor that was killed.
PARENT_PID_ENV = "SENTINEL_QUEUE_PARENT_PID"
SUPERVISE_INTERVAL = 0.5
# A worker that keeps dying is restarted at most this often.
RESTART_DELAY = 1.0


def worker_command(
    *,
    env: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    queue: str | None = None,
    threads: int | None = None,
) -> list[str]:
    """Build the command line of one worker process.

    Without ``threads`` the process runs ``queue.threads`` loops.
    """
    command = [sys.executable, "-m", "sentinel.core"]
    if env:
        command += ["--env", env]
    if config_path:
        command += ["--config", str(Path(config_path).resolve())]
    command += ["queue", "worker", "--workers", "1"]
    if threads is not None:
        command += ["--threads", str(threads)]
    if queue:
        command += ["--queue", queue]
    return command


class WorkerPool:
    """Keep ``count`` worker processes running until :meth:`stop`.

    Each worker runs in its own session, so a Ctrl-C in the terminal reaches
    only this process, which then stops the workers in order.
    """

    def __init__(
        self,
        command: Sequence[str],
        count: int,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.command = list(command)
        self.count = count
        self.env = dict(os.environ if env is None else env)
        self.env[PARENT_PID_ENV] = str(os.getpid())
        self.cwd = cwd
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the workers and the supervisor thread."""
        with self._lock:
            for slot in range(self.count):
                self.processes[slot] = self._spawn(slot)
        self._thread = threading.Thread(
            target=self._supervise, name="worker-supervisor", daemon=True
        )
        self._thread.start()

    def _spawn(self, slot: int) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            self.command, env=self.env, cwd=self.cwd, start_new_session=True
        )
        logger.info("worker process %d started (pid %d)", slot, process.pid)
        return process

    def _supervise(self) -> None:
        while not self._stopping.wait(SUPERVISE_INTERVAL):
            with self._lock:
                if self._stopping.is_set():
                    return
                for slot, process in enumerate(self.processes):
                    if process is None or process.poll() is None:
                        continue
                    logger.warning(
                        "worker process %d (pid %d) exited with code %s; restarting",
                        slot,
                        process.pid,
                        process.returncode,
                    )
                    self.restarts += 1
                    self.processes[slot] = self._spawn(slot)
            # Keeps a worker that fails at start-up from spinning the CPU.
            if self._stopping.wait(RESTART_DELAY - SUPERVISE_INTERVAL):
                return

    def pids(self) -> list[int]:
        """Return the process ids of the running workers."""
        with self._lock:
            return [p.pid for p in self.processes if p is not None and p.poll() is None]

    def kill(self) -> None:
        """Kill every worker at once; the leases of their jobs bring them back."""
        self._stopping.set()
        with self._lock:
            running = [p for p in self.processes if p is not None and p.poll() is None]
        for process in running:
            process.kill()

    def stop(self, timeout: float = 30.0) -> None:
        """Send SIGTERM to every worker, wait, then SIGKILL those still running."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            running = [p for p in self.processes if p is not None and p.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning(
                    "worker process pid %d did not stop within %.0f s; killing it",
                    process.pid,
                    timeout,
                )
                process.kill()
                process.wait()
        logger.info("worker processes stopped")
