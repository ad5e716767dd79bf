"""Latency and injected failures that tests ask the Box emulator for."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.utils import formatdate

from sentinel.box._errors import EmulatorApiError

_FAULT_CODES = {
    429: ("rate_limit_exceeded", "Request rate limit exceeded, please try again later"),
    500: ("internal_server_error", "Internal Server Error"),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("unavailable", "Unavailable"),
    504: ("gateway_timeout", "Gateway Timeout"),
}
# What a fault does: respond with an error, close the connection, or wait.
ACTIONS = ("error", "drop", "delay")


def retry_after_value(seconds: float, form: str) -> str:
    """Format a Retry-After header as delta seconds or as an HTTP date."""
    if form == "http-date":
        # An HTTP date has whole seconds, so round up to never ask for less.
        return formatdate(time.time() + seconds + 0.999, usegmt=True)
    return f"{seconds:g}"


@dataclass(slots=True)
class Fault:
    """A failure applied to the next ``count`` requests that match.

    ``action`` is "error" (respond with ``status``), "drop" (close the connection
    partway through the response) or "delay" (wait ``delay`` seconds, then
    respond normally). With ``after`` set, the emulator first handles the
    request for real, so its effect is kept (a part stored, a file
    uploaded), and only then fails the response.
    """

    status: int
    count: int
    retry_after: float | None = None
    path_prefix: str = ""
    method: str | None = None
    action: str = "error"
    after: bool = False
    delay: float = 0.0
    retry_after_form: str = "seconds"

    def matches(self, method: str, path: str) -> bool:
        """Tell whether a request with ``method`` and ``path`` gets this fault."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path_prefix)

    def error(self) -> EmulatorApiError:
        """Build the Box error object this fault responds with."""
        code, message = _FAULT_CODES[self.status]
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = retry_after_value(
                self.retry_after, self.retry_after_form
            )
        return EmulatorApiError(self.status, code, message, headers=headers)


class FaultPlan:
    """Pending faults and the latency added to every request; thread-safe."""

    def __init__(self, latency: float = 0.0) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.latency = latency
        self.applied = 0

    def add(
        self,
        status: int = 500,
        count: int = 1,
        *,
        retry_after: float | None = None,
        path_prefix: str = "",
        method: str | None = None,
        action: str = "error",
        after: bool = False,
        delay: float = 0.0,
        retry_after_form: str = "seconds",
    ) -> Fault:
        """Queue ``count`` faults for requests under ``path_prefix``.

        For errors ``status`` is 429 or a 5xx; a 429 carries Retry-After (1 s
        unless given) as seconds or, with ``retry_after_form="http-date"``,
        as an HTTP date.
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown fault action {action!r}; use one of {ACTIONS}")
        if action == "error" and status not in _FAULT_CODES:
            known = ", ".join(str(code) for code in sorted(_FAULT_CODES))
            raise ValueError(f"cannot inject status {status}; use one of {known}")
        if count < 1:
            raise ValueError(f"fault count must be at least 1, got {count}")
        if retry_after_form not in ("seconds", "http-date"):
            raise ValueError(
                f"unknown Retry-After form {retry_after_form!r}; use 'seconds' "
                "or 'http-date'"
            )
        if status == 429 and retry_after is None:
            retry_after = 1.0
        fault = Fault(
            status,
            count,
            retry_after,
            path_prefix,
            method,
            action,
            after,
            delay,
            retry_after_form,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_drop(
        self,
        count: int = 1,
        *,
        path_prefix: str = "",
        method: str | None = None,
        after: bool = False,
    ) -> Fault:
        """Queue connections closed partway through the response."""
        return self.add(
            count=count,
            path_prefix=path_prefix,
            method=method,
            action="drop",
            after=after,
        )

    def add_delay(
        self,
        delay: float,
        count: int = 1,
        *,
        path_prefix: str = "",
        method: str | None = None,
    ) -> Fault:
        """Queue responses that arrive ``delay`` seconds late."""
        return self.add(
            count=count,
            path_prefix=path_prefix,
            method=method,
            action="delay",
            delay=delay,
        )

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the first pending fault that matches a request."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    self.applied += 1
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
