"""Latency and injected failures that tests ask the Box emulator for."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sentinel.box._errors import EmulatorApiError

_FAULT_CODES = {
    429: ("rate_limit_exceeded", "Request rate limit exceeded, please try again later"),
    500: ("internal_server_error", "Internal Server Error"),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("unavailable", "Unavailable"),
    504: ("gateway_timeout", "Gateway Timeout"),
}


@dataclass(slots=True)
class Fault:
    """A failure returned for the next ``count`` requests that match."""

    status: int
    count: int
    retry_after: float | None = None
    path_prefix: str = ""
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        """Tell whether a request with ``method`` and ``path`` gets this fault."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path_prefix)

    def error(self) -> EmulatorApiError:
        """Build the Box error object this fault answers with."""
        code, message = _FAULT_CODES[self.status]
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = f"{self.retry_after:g}"
        return EmulatorApiError(self.status, code, message, headers=headers)


class FaultPlan:
    """Pending faults and the latency added to every request; thread-safe."""

    def __init__(self, latency: float = 0.0) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.latency = latency

    def add(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: float | None = None,
        path_prefix: str = "",
        method: str | None = None,
    ) -> Fault:
        """Queue ``count`` failures with ``status`` (429 or a 5xx)."""
        if status not in _FAULT_CODES:
            known = ", ".join(str(code) for code in sorted(_FAULT_CODES))
            raise ValueError(f"cannot inject status {status}; use one of {known}")
        if count < 1:
            raise ValueError(f"fault count must be at least 1, got {count}")
        if status == 429 and retry_after is None:
            retry_after = 1.0
        fault = Fault(status, count, retry_after, path_prefix, method)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the first pending fault that matches a request."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> int:
        """Count the failures still to be returned."""
        with self._lock:
            return sum(fault.count for fault in self._faults)

    def clear(self) -> None:
        """Drop every pending fault and reset the latency."""
        with self._lock:
            self._faults.clear()
        self.latency = 0.0
