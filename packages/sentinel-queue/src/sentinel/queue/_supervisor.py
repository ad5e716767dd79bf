"""A thread that restarts the embedded server when it dies under ``sentinel run``."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from sentinel.queue._errors import ServerStartError
from sentinel.queue._server import EmbeddedRedis, describe_exit

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 0.5
# Seconds between two start attempts when a restart fails.
RETRY_DELAY = 1.0
# More start attempts than this within RESTART_WINDOW seconds means that the
# server keeps dying or cannot start, so the supervisor gives up instead of
# trying forever.
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0


class ServerSupervisor:
    """Restart a dead :class:`EmbeddedRedis` on its port and data folder.

    The append-only file brings back the jobs that were synced to disk
    (``appendfsync everysec``: up to about one second of writes can be lost
    when the server is killed). A failed start is tried again after
    ``retry_delay`` seconds. When more than ``max_restarts`` start attempts
    fall within ``window`` seconds, ``on_give_up`` is called with the reason
    and the supervisor ends.
    """

    def __init__(
        self,
        server: EmbeddedRedis,
        on_give_up: Callable[[str], None],
        *,
        interval: float = CHECK_INTERVAL,
        retry_delay: float = RETRY_DELAY,
        max_restarts: int = MAX_RESTARTS,
        window: float = RESTART_WINDOW,
    ) -> None:
        self.server = server
        self.on_give_up = on_give_up
        self.interval = interval
        self.retry_delay = retry_delay
        self.max_restarts = max_restarts
        self.window = window
        self.restarts = 0
        self._attempts: deque[float] = deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="embedded-redis-supervisor", daemon=True
        )

    def start(self) -> None:
        """Start checking the server in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop checking and wait for a restart in progress to end."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            exit_code = self.server.exit_code
            if exit_code is None:
                continue
            logger.warning(
                "embedded redis %s %s; restarting it with the data in %s",
                self.server.url,
                describe_exit(exit_code),
                self.server.data_dir,
            )
            reason = self._restart(describe_exit(exit_code))
            if reason is not None:
                self.on_give_up(reason)
                return

    def _restart(self, last_failure: str) -> str | None:
        """Try to start the server; return why the supervisor gives up, or None."""
        url = self.server.url
        while not self._stop.is_set():
            if not self._attempt_allowed():
                return (
                    f"embedded redis {url} stopped or failed to start "
                    f"{len(self._attempts) + 1} times within {self.window:.0f} s "
                    f"(last: {last_failure}), so it is not restarted again; read "
                    f"{self.server.log_path} for the reason, then start sentinel "
                    f"run again"
                )
            try:
                self.server.start()
            except ServerStartError as exc:
                last_failure = str(exc)
                logger.error(
                    "embedded redis %s could not be restarted: %s; trying again "
                    "in %g s",
                    url,
                    exc,
                    self.retry_delay,
                )
                self._stop.wait(self.retry_delay)
                continue
            self.restarts += 1
            return None
        return None

    def _attempt_allowed(self) -> bool:
        """Record a start attempt unless the window already contains the maximum."""
        now = time.monotonic()
        while self._attempts and now - self._attempts[0] > self.window:
            self._attempts.popleft()
        if len(self._attempts) >= self.max_restarts:
            return False
        self._attempts.append(now)
        return True
