"""Pace Box requests per user and class, in one process or across many via Redis.

Both limiters implement GCRA (the generic cell rate algorithm) as
reservations: each attempt reserves the next free slot of every bucket that
applies and learns how long to wait for it, so callers queue fairly without
polling. The Redis limiter makes the reservation in one Lua script that
reads the server's clock, so processes on machines with skewed clocks share
one schedule.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sentinel.box._errors import BoxConfigError

logger = logging.getLogger(__name__)

# Box's request classes; every API request counts against exactly one.
CLASSES = ("general", "upload", "search")
_LIMIT_TEXT = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)?\s*([a-z]*)\s*$", re.IGNORECASE
)
_UNITS = {
    "": 1.0,
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``requests`` per ``seconds``; ``burst`` may go back to back."""

    requests: float
    seconds: float
    burst: int = 1

    @property
    def interval(self) -> float:
        """Seconds between two requests at the steady rate."""
        return self.seconds / self.requests

    @classmethod
    def parse(cls, value: object, name: str, burst: int = 1) -> Limit:
        """Read ``"240/min"``, ``"20/s"``, ``"6/1"`` or ``{requests, seconds}``."""
        if isinstance(value, Limit):
            return value
        if isinstance(value, Mapping):
            try:
                requests = float(value["requests"])
                seconds = float(value.get("seconds", 60.0))
                burst = int(value.get("burst", burst))
            except (KeyError, TypeError, ValueError) as error:
                raise BoxConfigError(
                    f"{name}: a limit mapping needs numeric requests and seconds "
                    f"(and optionally burst), got {dict(value)!r}"
                ) from error
            return cls._checked(requests, seconds, burst, name)
        match = _LIMIT_TEXT.match(str(value)) if isinstance(value, str) else None
        unit = match.group(3).lower() if match else ""
        if match is None or (unit not in _UNITS and unit.rstrip("s") not in _UNITS):
            raise BoxConfigError(
                f"{name}: cannot read limit {value!r}; write it as REQUESTS/PERIOD "
                "such as '1000/min', '20/s' or '6/1' (seconds)"
            )
        per_unit = _UNITS.get(unit, _UNITS.get(unit.rstrip("s"), 1.0))
        seconds = float(match.group(2) or 1.0) * per_unit
        return cls._checked(float(match.group(1)), seconds, burst, name)

    @classmethod
    def _checked(cls, requests: float, seconds: float, burst: int, name: str) -> Limit:
        if requests <= 0 or seconds <= 0 or burst < 1:
            raise BoxConfigError(
                f"{name}: requests and seconds must be above 0 and burst at least "
                f"1, got requests={requests}, seconds={seconds}, burst={burst}"
            )
        return cls(requests, seconds, burst)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One schedule to keep: a key naming its scope and the limit it enforces."""

    key: str
    limit: Limit


class Limiter(Protocol):
    """Something that reserves request slots."""

    def reserve(self, buckets: Sequence[Bucket]) -> float:
        """Reserve one slot in every bucket; return the seconds to wait for it."""
        ...


class Pacer:
    """Turns a request's user and class into buckets and waits for their slots."""

    def __init__(
        self,
        limiter: Limiter | None,
        user_limits: Mapping[str, Limit],
        enterprise_limits: Mapping[str, Limit] | None = None,
        *,
        prefix: str = "sentinel:box:rate",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limiter = limiter
        self.user_limits = dict(user_limits)
        self.enterprise_limits = dict(enterprise_limits or {})
        self.prefix = prefix
        self._sleep = sleep
        self.waited = 0.0
        self.reservations = 0

    def buckets(self, user: str, kind: str) -> list[Bucket]:
        """Return the buckets that one request of ``kind`` by ``user`` uses."""
        found = []
        if kind in self.user_limits:
            found.append(
                Bucket(f"{self.prefix}:user:{user}:{kind}", self.user_limits[kind])
            )
        if kind in self.enterprise_limits:
            found.append(
                Bucket(f"{self.prefix}:enterprise:{kind}", self.enterprise_limits[kind])
            )
        return found

    def wait(self, user: str, kind: str) -> float:
        """Block until one request of ``kind`` by ``user`` may go; return the wait."""
        if self.limiter is None:
            return 0.0
        buckets = self.buckets(user, kind)
        if not buckets:
            return 0.0
        delay = self.limiter.reserve(buckets)
        self.reservations += 1
        if delay > 0:
            logger.debug("%s: waiting %.3f s for a %s slot", user, delay, kind)
            self.waited += delay
            self._sleep(delay)
        return delay


class MemoryLimiter:
    """GCRA reservations shared by the threads of one process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, buckets: Sequence[Bucket]) -> float:
        """Reserve one slot in every bucket; return the seconds to wait for it."""
        with self._lock:
            now = self._clock()
            tats = [max(self._tats.get(b.key, now), now) for b in buckets]
            wait = max(
                max(0.0, tat - _tolerance(b.limit) - now)
                for tat, b in zip(tats, buckets, strict=True)
            )
            start = now + wait
            for tat, bucket in zip(tats, buckets, strict=True):
                self._tats[bucket.key] = max(tat, start) + bucket.limit.interval
            return wait


def _tolerance(limit: Limit) -> float:
    return (limit.burst - 1) * limit.interval


# KEYS: one bucket key each. ARGV: interval and tolerance in microseconds for
# each key, in the same order. Returns the wait in microseconds. TIME is the
# server's clock; scripts are replicated by their effects, so reading it
# before a write is allowed.
RESERVE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tats = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key))
  if tat == nil or tat < now then tat = now end
  tats[i] = tat
  local tolerance = tonumber(ARGV[2 * i])
  local need = tat - tolerance - now
  if need > wait then wait = need end
end
local start = now + wait
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tat = tats[i]
  if tat < start then tat = start end
  local next_tat = tat + interval
  local ttl = math.ceil((next_tat - now) / 1000) + 1000
  redis.call('SET', key, string.format('%d', next_tat), 'PX', ttl)
end
return wait
"""


class RedisLimiter:
    """GCRA reservations shared by every process that uses one Redis server.

    If Redis cannot be reached the limiter paces with an in-process
    schedule instead, so a Redis outage slows the fleet's coordination but
    does not stop uploads. Box's 429 responses and the retries cover the gap.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._script = client.register_script(RESERVE_SCRIPT)
        self._fallback = MemoryLimiter()
        # True while Redis is unreachable and the in-process schedule is used.
        self.degraded = False

    def reserve(self, buckets: Sequence[Bucket]) -> float:
        """Reserve one slot in every bucket; return the seconds to wait for it."""
        import redis

        args: list[int] = []
        for bucket in buckets:
            interval = max(1, round(bucket.limit.interval * 1_000_000))
            args += [interval, (bucket.limit.burst - 1) * interval]
        try:
            micros = self._script(keys=[b.key for b in buckets], args=args)
        except redis.RedisError as error:
            if not self.degraded:
                logger.warning(
                    "%s: Redis unreachable for rate limiting (%s); pacing in this "
                    "process only until it answers",
                    buckets[0].key,
                    error,
                )
                self.degraded = True
            return self._fallback.reserve(buckets)
        self.degraded = False
        return max(0, int(micros)) / 1_000_000


def parse_limits(values: Mapping[str, Any], name: str, burst: int) -> dict[str, Limit]:
    """Read a mapping of request class to limit; null values mean unlimited."""
    limits = {}
    for kind, value in values.items():
        if kind not in CLASSES:
            raise BoxConfigError(
                f"{name}: unknown request class {kind!r}; use one of "
                f"{', '.join(CLASSES)}"
            )
        if value is None or value == "":
            continue
        limits[kind] = Limit.parse(value, f"{name}.{kind}", burst)
    return limits
