"""The base of handlers that send log records from a background thread."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from sentinel.log._errors import HandlerConfigError
from sentinel.log._flood import FloodControl, FloodSummary
from sentinel.log._redact import Redactor

# Upper bound of one backoff delay, so that a long server-requested
# Retry-After cannot park the sender thread for minutes.
MAX_RETRY_DELAY = 30.0

# How often an idle sender thread wakes up to send due flood summaries.
MAX_IDLE_WAIT = 1.0

# The record format of the service handlers: level and logger before the text.
DEFAULT_FORMAT = "%(levelname)s %(name)s: %(message)s"

_live_handlers: weakref.WeakSet[BackgroundHandler] = weakref.WeakSet()


@dataclass(frozen=True, slots=True)
class Message:
    """One text to send, not yet redacted."""

    text: str


_WAKE = Message("")


class HandlerOptions(TypedDict, total=False):
    """Keyword options that every :class:`BackgroundHandler` takes.

    ``level`` filters records; ``secrets`` are masked in all output;
    ``queue_size`` bounds the records waiting to be sent; repeats within
    ``flood_window`` seconds are collapsed; a failed send is retried
    ``retries`` times with backoff from ``retry_backoff`` seconds; ``close``
    waits at most ``close_timeout`` seconds.
    """

    level: int | str
    secrets: Iterable[str]
    queue_size: int
    flood_window: float
    retries: int
    retry_backoff: float
    close_timeout: float


def with_secret(secret: str, options: HandlerOptions) -> HandlerOptions:
    """Return ``options`` with the service credential ``secret`` masked too."""
    return {**options, "secrets": [secret, *options.get("secrets", ())]}


class BackgroundHandler(logging.Handler):
    """A handler whose ``emit`` only queues the formatted record.

    One daemon thread per handler redacts each queued text and sends it to
    every target with :meth:`send`, retrying failures with exponential backoff.
    When the bounded queue is full, records are dropped and counted, and a
    "N messages dropped" summary is sent once the queue has drained. Repeats
    of one message within ``flood_window`` seconds are collapsed into one
    summary with a count. A message that still fails after ``retries`` retries
    is written to stderr, redacted; nothing is ever raised into the caller.
    ``close`` sends what is pending, waiting at most ``close_timeout`` seconds.

    Subclasses implement :meth:`targets` and :meth:`send`, and may override
    :meth:`retry_delay` to say which errors are worth retrying.
    """

    service = "log endpoint"
    max_length = 4000
    # Subclasses set a record format here; None keeps logging's plain message.
    default_format: str | None = None

    def __init__(
        self,
        *,
        level: int | str = logging.NOTSET,
        secrets: Iterable[str] = (),
        queue_size: int = 1000,
        flood_window: float = 60.0,
        retries: int = 3,
        retry_backoff: float = 1.0,
        close_timeout: float = 5.0,
    ) -> None:
        super().__init__(level)
        if queue_size < 1:
            raise HandlerConfigError(
                f"queue_size={queue_size!r} is invalid: expected at least 1"
            )
        if retries < 0:
            raise HandlerConfigError(
                f"retries={retries!r} is invalid: expected 0 or more"
            )
        self.redact = Redactor(secrets)
        self.flood = FloodControl(flood_window)
        self.queue_size = queue_size
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.close_timeout = close_timeout
        if self.default_format is not None:
            self.setFormatter(logging.Formatter(self.default_format))
        self._reset_state()
        _live_handlers.add(self)

    def _reset_state(self) -> None:
        self._queue: queue.Queue[Message] = queue.Queue(self.queue_size)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closing = threading.Event()
        self._abort = threading.Event()
        self._closed = False
        self._stats_lock = threading.Lock()
        self._idle = threading.Condition(self._stats_lock)
        self._pending = 0
        self._dropped_unreported = 0
        self._sent = 0
        self._dropped = 0
        self._failed = 0

    # The methods below run in the thread that logs, so they must not block.

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the formatted record for sending, or drop and count it when full."""
        # The SDKs log while the sender thread sends, and sending those
        # records too would feed the handler its own traffic forever.
        if self._closed or threading.current_thread() is self._thread:
            return
        try:
            if not self.flood.admit(record):
                return
            self._enqueue(Message(self.format(record)))
        except Exception:  # noqa: BLE001 - logging must never raise into the app
            self.handleError(record)

    def _enqueue(self, message: Message) -> None:
        self._ensure_thread()
        with self._stats_lock:
            self._pending += 1
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            with self._stats_lock:
                self._pending -= 1
                self._dropped += 1
                self._dropped_unreported += 1
                self._idle.notify_all()

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(
                    target=self._run,
                    name=f"{type(self).__name__}-sender",
                    daemon=True,
                )
                thread.start()
                self._thread = thread

    def stats(self) -> dict[str, int]:
        """Return counts of sends, failed sends, dropped and collapsed records.

        ``sent`` and ``failed`` count deliveries to one target each.
        ``suppressed`` counts repeats not yet reported in a flood summary.
        """
        with self._stats_lock:
            counts = {
                "sent": self._sent,
                "failed": self._failed,
                "dropped": self._dropped,
            }
        counts["suppressed"] = self.flood.suppressed()
        return counts

    def flush(self) -> None:
        """Wait until every queued message is sent, at most ``close_timeout``."""
        with self._idle:
            self._idle.wait_for(lambda: self._pending == 0, self.close_timeout)

    def close(self) -> None:
        """Send what is pending within ``close_timeout`` seconds, then stop."""
        with self._start_lock:
            already_closed = self._closed
            self._closed = True
            thread = self._thread
        if not already_closed and thread is not None:
            self._closing.set()
            self._wake()
            thread.join(self.close_timeout)
            if thread.is_alive():
                self._abort.set()
                self._fallback(
                    f"{self._queue.qsize()} queued messages were not sent within "
                    f"close_timeout={self.close_timeout} s"
                )
        _live_handlers.discard(self)
        super().close()

    def _wake(self) -> None:
        # A full queue wakes the sender anyway, so a failed put loses nothing.
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_WAKE)

    # The methods below run in the sender thread.

    def _run(self) -> None:
        while True:
            wait = min(MAX_IDLE_WAIT, self.flood.window or MAX_IDLE_WAIT)
            try:
                message = self._queue.get(timeout=wait)
            except queue.Empty:
                message = None
            if message is not None and message is not _WAKE:
                try:
                    self._guard(self._deliver, message.text)
                finally:
                    self._finish_one()
            if self._abort.is_set():
                return
            drained = self._queue.empty()
            if drained and self._closing.is_set():
                break
            self._guard(self._send_summaries, force=False, drained=drained)
        self._guard(self._send_summaries, force=True, drained=True)

    def _guard(self, step: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        # An error here (a formatter that raises, say) must not end the
        # sender thread, or every later record would pile up unsent.
        try:
            step(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported on stderr instead
            self._fallback(f"sending failed: {type(exc).__name__}: {exc}")

    def _finish_one(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def _send_summaries(self, *, force: bool, drained: bool) -> None:
        for summary in self.flood.due(force=force):
            self._guard(self._deliver_flood_summary, summary)
        if not drained:
            return
        with self._stats_lock:
            dropped, self._dropped_unreported = self._dropped_unreported, 0
        if dropped:
            self._deliver(
                f"{dropped} messages dropped: the {self.service} send queue "
                f"(queue_size={self.queue_size}) was full"
            )

    def _deliver_flood_summary(self, summary: FloodSummary) -> None:
        self._deliver(self._flood_text(summary))

    def _flood_text(self, summary: FloodSummary) -> str:
        text = self.format(summary.record)
        return (
            f"{text}\n(repeated {summary.count} more times in {summary.seconds:.0f} s)"
        )

    def _deliver(self, text: str) -> None:
        text = self._truncate(self.redact(text))
        for target in self.targets():
            if self._send_with_retries(target, text):
                with self._stats_lock:
                    self._sent += 1
            else:
                with self._stats_lock:
                    self._failed += 1

    def _truncate(self, text: str) -> str:
        if len(text) <= self.max_length:
            return text
        return text[: self.max_length - 3] + "..."

    def _send_with_retries(self, target: str, text: str) -> bool:
        attempt = 0
        while True:
            attempt += 1
            try:
                self.send(target, text)
            except Exception as exc:  # noqa: BLE001 - any failure falls back to stderr
                delay = self.retry_delay(exc, attempt)
                if delay is None or attempt > self.retries or self._abort.is_set():
                    self._fallback(
                        f"could not send to {target} after {_attempts(attempt)}: "
                        f"{type(exc).__name__}: {exc}",
                        text,
                    )
                    return False
                self._abort.wait(min(delay, MAX_RETRY_DELAY))
            else:
                return True

    def _fallback(self, problem: str, text: str | None = None) -> None:
        """Write a redacted note to stderr, as logging.lastResort would."""
        line = f"sentinel.log: {type(self).__name__}: {problem}"
        if text is not None:
            line += f"; message: {text}"
        try:
            sys.stderr.write(self.redact(line) + "\n")
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            # stderr is closed or missing at interpreter exit, so there is
            # nowhere left to report to.
            pass

    # Subclasses implement the methods below.

    def targets(self) -> Sequence[str]:
        """Return where each message goes (channels, phone numbers)."""
        raise NotImplementedError

    def send(self, target: str, text: str) -> None:
        """Send ``text`` to ``target`` once and raise on any failure."""
        raise NotImplementedError

    def retry_delay(self, exc: Exception, attempt: int) -> float | None:
        """Return seconds to wait before retrying after ``exc``, or None to give up.

        The default retries every error with exponential backoff.
        """
        return self.backoff(attempt)

    def backoff(self, attempt: int) -> float:
        """Return the exponential backoff delay after failed attempt ``attempt``."""
        return float(self.retry_backoff * 2 ** (attempt - 1))


def _attempts(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def _reset_after_fork() -> None:
    # A forked child has none of the parent's threads, and a lock that a
    # parent thread held at fork time stays locked, so every handler starts
    # with fresh state.
    for handler in list(_live_handlers):
        handler._reset_state()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
