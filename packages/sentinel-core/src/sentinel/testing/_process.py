"""A ``sentinel run`` child process for end-to-end tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path


class AgentProcess:
    """A ``sentinel run`` child process in ``workdir``, its output read by a thread.

    ``lines`` grows while the process runs, so a test can wait for a log
    line without blocking on the pipe.
    """

    def __init__(self, workdir: Path, env: Mapping[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sentinel.core", "run"],
            cwd=workdir,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        """Return the output read so far, one line per log record."""
        return "\n".join(self.lines)

    def count(self, text: str) -> int:
        """Count the output lines that contain ``text``."""
        return sum(text in line for line in self.lines)

    def stop(self, timeout: float = 60.0) -> int:
        """Stop with SIGINT as Ctrl-C does and return the exit code.

        A process still running after ``timeout`` seconds is killed.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._finish()
        return code

    def close(self) -> None:
        """Kill the process if it still runs, reap it and close its pipe."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self._finish()

    def _finish(self) -> None:
        self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
