"""Box's rate limits in the emulator: token buckets per user and request class."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sentinel.box._emulator._config import RateLimit

# Where requests of each class go; everything else under /2.0/ is "general".
_UPLOAD_PATHS = ("/api/2.0/files/content", "/api/2.0/files/upload_sessions")


def request_class(method: str, path: str) -> str | None:
    """Return the limit class of an API request, or None for unlimited ones.

    A whole chunked upload counts as one upload: creating its session is the
    upload, while its parts, listing and commit are general requests. Token
    requests and the emulator's own endpoints are not limited.
    """
    if method == "GET" and path == "/2.0/search":
        return "search"
    if method == "POST" and (
        path in _UPLOAD_PATHS
        or (
            path.startswith("/api/2.0/files/")
            and path.endswith(("/content", "/upload_sessions"))
        )
    ):
        return "upload"
    if path.startswith(("/2.0/", "/api/2.0/")):
        return "general"
    return None


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by (scope, class); thread-safe.

    ``acquire`` takes one token from each bucket that applies, or none of
    them, and tells how long to wait when a bucket is empty.
    """

    def __init__(
        self,
        user_limits: Mapping[str, RateLimit],
        enterprise_limits: Mapping[str, RateLimit],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_limits = dict(user_limits)
        self.enterprise_limits = dict(enterprise_limits)
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether any limit is configured."""
        return bool(self.user_limits or self.enterprise_limits)

    def acquire(self, user_id: str, kind: str) -> float:
        """Count one request; return 0 when allowed, else seconds to wait."""
        checks = []
        if kind in self.user_limits:
            checks.append((f"user:{user_id}", self.user_limits[kind]))
        if kind in self.enterprise_limits:
            checks.append(("enterprise", self.enterprise_limits[kind]))
        if not checks:
            return 0.0
        with self._lock:
            now = self._clock()
            buckets = [
                (self._refilled(scope, kind, limit, now), limit)
                for scope, limit in checks
            ]
            wait = max((1.0 - bucket.tokens) / limit.rate for bucket, limit in buckets)
            if wait > 0:
                return wait
            for bucket, _limit in buckets:
                bucket.tokens -= 1.0
            return 0.0

    def reset(self) -> None:
        """Refill every bucket."""
        with self._lock:
            self._buckets.clear()

    def _refilled(self, scope: str, kind: str, limit: RateLimit, now: float) -> _Bucket:
        bucket = self._buckets.get((scope, kind))
        if bucket is None:
            bucket = _Bucket(float(limit.capacity), now)
            self._buckets[(scope, kind)] = bucket
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(limit.capacity), bucket.tokens + elapsed * limit.rate)
        bucket.updated = now
        return bucket


def retry_after_seconds(wait: float) -> int:
    """Round a wait up to whole seconds, as Box's Retry-After header carries."""
    return max(1, math.ceil(wait))
