"""A log of every request the Box emulator served, for tests to count."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

# Enough for a benchmark of tens of thousands of requests; older ones drop off.
MAX_RECORDS = 200_000


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One served request.

    ``endpoint`` is the method and route, such as ``POST /oauth2/token`` or
    ``GET /2.0/folders/{id}``; ``token`` is the bearer token sent, or for a
    token request the grant type's credential (the refresh token spent, the
    JWT id or the client id); ``user_id`` is the Box user it acted as.
    """

    time: float
    method: str
    endpoint: str
    path: str
    status: int
    token: str
    user_id: str
    limit_class: str | None
    grant_type: str = ""


class RequestLog:
    """Counts of requests by endpoint, token and status; thread-safe."""

    def __init__(self, max_records: int = MAX_RECORDS) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=max_records)
        self._by_endpoint: Counter[str] = Counter()
        self._by_token: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._lock = threading.Lock()

    def add(self, record: RequestRecord) -> None:
        """Record one served request."""
        with self._lock:
            self._records.append(record)
            self._by_endpoint[record.endpoint] += 1
            self._by_token[record.token] += 1
            self._by_status[record.status] += 1

    def count(
        self,
        endpoint: str | None = None,
        *,
        token: str | None = None,
        status: int | None = None,
        grant_type: str | None = None,
        limit_class: str | None = None,
    ) -> int:
        """Count recorded requests that match every filter given."""
        if grant_type is None and limit_class is None:
            with self._lock:
                if token is None and status is None and endpoint is not None:
                    return self._by_endpoint[endpoint]
                if endpoint is None and status is None and token is not None:
                    return self._by_token[token]
                if endpoint is None and token is None and status is not None:
                    return self._by_status[status]
        return sum(
            1
            for record in self.records()
            if (endpoint is None or record.endpoint == endpoint)
            and (token is None or record.token == token)
            and (status is None or record.status == status)
            and (grant_type is None or record.grant_type == grant_type)
            and (limit_class is None or record.limit_class == limit_class)
        )

    def by_endpoint(self) -> dict[str, int]:
        """Return the number of requests per endpoint."""
        with self._lock:
            return dict(self._by_endpoint)

    def by_token(self) -> dict[str, int]:
        """Return the number of requests per token."""
        with self._lock:
            return dict(self._by_token)

    def by_status(self) -> dict[int, int]:
        """Return the number of requests per HTTP status."""
        with self._lock:
            return dict(self._by_status)

    def records(self) -> list[RequestRecord]:
        """Return the recorded requests, oldest first."""
        with self._lock:
            return list(self._records)

    def summary(self) -> dict[str, Any]:
        """Return the counts as JSON-ready data."""
        with self._lock:
            return {
                "total": sum(self._by_status.values()),
                "by_endpoint": dict(self._by_endpoint),
                "by_status": {
                    str(key): value for key, value in self._by_status.items()
                },
                "by_token": dict(self._by_token),
            }

    def as_dicts(self, since: float = 0.0) -> list[dict[str, Any]]:
        """Return the records at or after ``since`` as JSON-ready dicts."""
        return [asdict(record) for record in self.records() if record.time >= since]

    def reset(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._records.clear()
            self._by_endpoint.clear()
            self._by_token.clear()
            self._by_status.clear()


@dataclass(slots=True)
class RequestFacts:
    """What the emulator learnt about a request while serving it."""

    user_id: str = ""
    limit_class: str | None = None
    grant_type: str = ""
    credential: str = ""
    dropped: bool = False


FACTS_KEY = web.RequestKey("box_request_facts", RequestFacts)


def facts(request: web.Request) -> RequestFacts:
    """Return the facts noted for ``request``, creating them on first use."""
    noted = request.get(FACTS_KEY)
    if noted is None:
        noted = RequestFacts()
        request[FACTS_KEY] = noted
    return noted
