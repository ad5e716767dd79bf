"""A thread-safe, bounded log of recent agent events for the dashboard."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any


class EventLog:
    """Keep the most recent events in memory, each with a sequence number.

    Readers poll with :meth:`since` to get only what is new, so a web page
    can stream updates without a subscription per client. Sequence numbers
    start from the clock in microseconds, so they keep growing across agent
    restarts and a page that stays open never skips a new run's events.
    """

    def __init__(self, maxlen: int = 1000, start: int | None = None) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = time.time_ns() // 1000 if start is None else start

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append an event of ``kind`` and return it with ``seq`` and ``time``."""
        with self._lock:
            self._seq += 1
            event = {"seq": self._seq, "time": time.time(), "kind": kind, **fields}
            self._events.append(event)
        return event

    def recent(self, kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Return up to ``limit`` events, newest first, optionally of one kind."""
        with self._lock:
            events = list(self._events)
        events.reverse()
        if kind is not None:
            events = [event for event in events if event["kind"] == kind]
        return events[:limit]

    def since(self, seq: int) -> list[dict[str, Any]]:
        """Return events newer than ``seq``, oldest first."""
        with self._lock:
            return [event for event in self._events if event["seq"] > seq]

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest event, or the starting number."""
        with self._lock:
            return self._seq
