"""When to retry a Box request and how long to wait before the next attempt."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

# Box requests waits of a few seconds. A longer Retry-After is capped, so a
# bad clock cannot park a worker for hours.
MAX_RETRY_AFTER = 600.0


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the wait a Retry-After header requests, in seconds, or None.

    The header holds either delta seconds (``"2"``, ``"1.5"``) or an HTTP
    date (``"Wed, 21 Oct 2015 07:28:00 GMT"``); a date in the past means no
    wait. An unreadable value gives None, so the caller falls back to its
    own backoff.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    seconds: float | None
    try:
        seconds = float(text)
    except ValueError:
        seconds = _seconds_until(text, time.time() if now is None else now)
    if seconds is None or math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _seconds_until(text: str, now: float) -> float | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        # RFC 9110 dates are always GMT; a date without a zone is read so too.
        return None
    return float(moment.timestamp() - now)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts per request and the exponential backoff between them.

    The wait before retry ``n`` (1-based) is ``base * 2 ** (n - 1)`` capped
    at ``cap`` with full jitter of ``jitter`` (0.5 means 50 % to 150 %). A
    Retry-After header, when present, replaces it.
    """

    max_attempts: int = 5
    base: float = 1.0
    cap: float = 60.0
    jitter: float = 0.5

    def backoff(self, retry: int) -> float:
        """Return the wait before retry number ``retry`` (1 for the first)."""
        delay = min(self.cap, self.base * 2 ** max(0, retry - 1))
        spread = random.uniform(1 - self.jitter, 1 + self.jitter)  # noqa: S311
        return float(max(0.0, delay * spread))

    def delay(self, retry: int, retry_after: str | None) -> float:
        """Return the wait before a retry: Retry-After if readable, else backoff."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return asked
        return self.backoff(retry)


def retryable_status(status: int) -> bool:
    """Tell whether a request that got ``status`` may succeed when sent again.

    Status 0 means no response at all: a refused or dropped connection or
    a timeout.
    """
    return status in {0, 429} or status >= 500
