"""Tests of the rate and concurrency limiters."""

from __future__ import annotations

import asyncio

import pytest

from sentinel.core import ConcurrencyLimiter, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_allows_burst_then_waits() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10, per=1.0, burst=2, clock=clock)
    assert limiter._reserve(1) == 0
    assert limiter._reserve(1) == 0
    assert limiter._reserve(1) == pytest.approx(0.1)


def test_rate_limiter_refills_over_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10, per=1.0, burst=1, clock=clock)
    assert limiter.try_acquire()
    assert not limiter.try_acquire()
    clock.now = 0.1
    assert limiter.try_acquire()


def test_rate_limiter_rejects_bad_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(rate=0)


def test_rate_limiter_rejects_oversized_request() -> None:
    with pytest.raises(ValueError, match="bucket"):
        RateLimiter(rate=1, burst=1).acquire(5)


def test_concurrency_limiter_caps_active() -> None:
    limiter = ConcurrencyLimiter(2)
    peak = 0

    async def work() -> None:
        nonlocal peak
        async with limiter:
            peak = max(peak, limiter.active)
            await asyncio.sleep(0.01)

    async def main() -> None:
        await asyncio.gather(*(work() for _ in range(8)))

    asyncio.run(main())
    assert peak == 2
    assert limiter.active == 0


def test_concurrency_limiter_rejects_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ConcurrencyLimiter(0)
