"""Rate and concurrency limiters for calls to outside services."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from types import TracebackType


class RateLimiter:
    """A token bucket: ``rate`` tokens per ``per`` seconds, up to ``burst`` at once.

    Thread-safe. :meth:`acquire` blocks the calling thread and
    :meth:`acquire_async` suspends the calling coroutine until a token is free.
    """

    def __init__(
        self,
        rate: float,
        per: float = 1.0,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or per <= 0:
            raise ValueError(
                f"rate and per must be positive, got rate={rate} per={per}"
            )
        self.rate = rate / per
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._clock = clock
        self._stamp = clock()
        self._lock = threading.Lock()

    def _reserve(self, tokens: float) -> float:
        """Take ``tokens`` now and return how long the caller must wait for them."""
        if tokens > self.burst:
            raise ValueError(
                f"cannot take {tokens} tokens from a bucket of {self.burst}"
            )
        with self._lock:
            now = self._clock()
            self._tokens = min(
                self.burst, self._tokens + (now - self._stamp) * self.rate
            )
            self._stamp = now
            self._tokens -= tokens
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take ``tokens`` if they are free now, without waiting."""
        with self._lock:
            now = self._clock()
            available = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            if available < tokens:
                return False
            self._tokens = available - tokens
            self._stamp = now
            return True

    def acquire(self, tokens: float = 1.0) -> float:
        """Wait until ``tokens`` are free, take them, and return the seconds waited."""
        delay = self._reserve(tokens)
        if delay > 0:
            time.sleep(delay)
        return delay

    async def acquire_async(self, tokens: float = 1.0) -> float:
        """Like :meth:`acquire`, but suspends the coroutine instead of the thread."""
        delay = self._reserve(tokens)
        if delay > 0:
            await asyncio.sleep(delay)
        return delay


class ConcurrencyLimiter:
    """Limit how many coroutines run a block at once: ``async with limiter:``."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit)
        self._active = 0

    @property
    def active(self) -> int:
        """Number of coroutines inside the block now."""
        return self._active

    async def __aenter__(self) -> ConcurrencyLimiter:
        await self._semaphore.acquire()
        self._active += 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._active -= 1
        self._semaphore.release()
