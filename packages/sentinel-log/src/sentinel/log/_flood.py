"""Flood control: collapse repeats of one log message into a counted summary."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FloodKey = tuple[str, int, str]

# Past this many distinct messages in one window, new ones are let through
# untracked, so a flood of unique messages cannot grow memory without bound.
MAX_TRACKED = 10_000


def flood_key(record: logging.LogRecord) -> FloodKey:
    """Return the identity of a record for flood control.

    Records are the same message when logger, level and message template
    match; the arguments may differ, so "disk full on %s" with any path is
    one message.
    """
    return (record.name, record.levelno, str(record.msg))


@dataclass(slots=True)
class Repeats:
    """Records of one message suppressed within the current window."""

    count: int
    last: logging.LogRecord
    window_start: float


@dataclass(frozen=True, slots=True)
class FloodSummary:
    """The count of suppressed repeats of one message and the latest of them."""

    count: int
    record: logging.LogRecord
    seconds: float


class FloodControl:
    """Admit the first record of each message per window and count the rest.

    A window opens when a message is first admitted and lasts ``window``
    seconds. Repeats within it are suppressed; when it ends with repeats,
    :meth:`due` returns one summary and a new window opens, so a steady flood
    yields one summary per window. A window that ends without repeats is
    forgotten and the next record of that message is admitted again.
    A ``window`` of 0 turns flood control off.
    """

    def __init__(
        self, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self._clock = clock
        self._seen: dict[FloodKey, Repeats] = {}
        self._lock = threading.Lock()

    def admit(self, record: logging.LogRecord) -> bool:
        """Tell whether ``record`` should be sent; count it when it is a repeat."""
        if self.window <= 0:
            return True
        key = flood_key(record)
        now = self._clock()
        with self._lock:
            repeats = self._seen.get(key)
            if repeats is not None and now - repeats.window_start < self.window:
                repeats.count += 1
                repeats.last = record
                return False
            if repeats is not None and repeats.count:
                # The window ended before due() ran, so keep the count for
                # due() to report and let this record through.
                return True
            if len(self._seen) < MAX_TRACKED:
                self._seen[key] = Repeats(0, record, now)
            return True

    def due(self, *, force: bool = False) -> list[FloodSummary]:
        """Return summaries of windows that ended; with ``force``, of all windows."""
        now = self._clock()
        summaries = []
        with self._lock:
            for key, repeats in list(self._seen.items()):
                elapsed = now - repeats.window_start
                if not force and elapsed < self.window:
                    continue
                if repeats.count:
                    summaries.append(
                        FloodSummary(
                            repeats.count, repeats.last, min(elapsed, self.window)
                        )
                    )
                    self._seen[key] = Repeats(0, repeats.last, now)
                else:
                    del self._seen[key]
        return summaries

    def suppressed(self) -> int:
        """Return how many repeats are counted but not yet summarised."""
        with self._lock:
            return sum(repeats.count for repeats in self._seen.values())
