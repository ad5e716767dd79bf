"""Settings of the Box emulator, from Python, a YAML or JSON file, or the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from sentinel.box._errors import BoxConfigError

# Box's request classes: every API request counts against exactly one of them.
LIMIT_CLASSES = ("general", "upload", "search")
RETRY_AFTER_FORMS = ("seconds", "http-date")
_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0}
_LIMIT_TEXT = re.compile(r"^\s*(\d+)\s*/\s*(?:(\d+(?:\.\d+)?)\s*)?([a-z]*)\s*$")
# Box's published limits per user, with the enterprise-wide search limit.
BOX_USER_LIMITS = {"general": "1000/min", "upload": "240/min", "search": "6/s"}
BOX_ENTERPRISE_LIMITS = {"search": "12/s"}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``requests`` per ``seconds``, with bursts of up to ``burst``.

    The emulator enforces it as a token bucket of ``burst`` tokens
    (``requests`` when not set) and refills at ``requests / seconds`` per
    second, so a client that spaces its requests evenly at the rate never
    sees a 429.
    """

    requests: int
    seconds: float = 60.0
    burst: int | None = None

    @property
    def rate(self) -> float:
        """Requests allowed per second."""
        return self.requests / self.seconds

    @property
    def capacity(self) -> int:
        """Requests that may arrive at once after a quiet period."""
        return self.requests if self.burst is None else self.burst

    @classmethod
    def parse(cls, value: object, name: str = "limit") -> RateLimit:
        """Read a limit written as ``"240/min"``, ``"20/s"``, ``"6/1"`` or a mapping."""
        if isinstance(value, RateLimit):
            return value
        if isinstance(value, Mapping):
            return cls._from_mapping(value, name)
        if isinstance(value, str):
            return cls._from_text(value, name)
        raise BoxConfigError(
            f"{name}: expected a limit such as '240/min' or a mapping with "
            f"requests and seconds, got {value!r}"
        )

    @classmethod
    def _from_text(cls, text: str, name: str) -> RateLimit:
        match = _LIMIT_TEXT.match(text.lower())
        unit = match.group(3) if match else ""
        if match is None or unit.rstrip("s") not in {"", *_UNITS}:
            raise BoxConfigError(
                f"{name}: cannot read limit {text!r}; write it as REQUESTS/PERIOD "
                "such as '240/min', '20/s' or '6/1' (seconds)"
            )
        count = float(match.group(2) or 1.0)
        per_unit = _UNITS.get(unit, _UNITS.get(unit.rstrip("s"), 1.0))
        return cls._checked(int(match.group(1)), count * per_unit, None, name)

    @classmethod
    def _from_mapping(cls, value: Mapping[str, Any], name: str) -> RateLimit:
        unknown = set(value) - {"requests", "seconds", "burst"}
        if unknown or "requests" not in value:
            raise BoxConfigError(
                f"{name}: a limit mapping takes requests, seconds and burst; got "
                f"keys {sorted(value)}"
            )
        burst = value.get("burst")
        return cls._checked(
            int(value["requests"]),
            float(value.get("seconds", 60.0)),
            None if burst is None else int(burst),
            name,
        )

    @classmethod
    def _checked(
        cls, requests: int, seconds: float, burst: int | None, name: str
    ) -> RateLimit:
        if requests < 1 or seconds <= 0 or (burst is not None and burst < 1):
            raise BoxConfigError(
                f"{name}: requests and burst must be at least 1 and seconds above "
                f"0, got requests={requests}, seconds={seconds}, burst={burst}"
            )
        return cls(requests, seconds, burst)


def _limits(value: object, name: str) -> dict[str, RateLimit]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BoxConfigError(
            f"{name}: expected a mapping of {', '.join(LIMIT_CLASSES)} to limits, "
            f"got {value!r}"
        )
    limits = {}
    for kind, limit in value.items():
        if kind not in LIMIT_CLASSES:
            raise BoxConfigError(
                f"{name}: unknown request class {kind!r}; use one of "
                f"{', '.join(LIMIT_CLASSES)}"
            )
        limits[str(kind)] = RateLimit.parse(limit, f"{name}.{kind}")
    return limits


@dataclass(slots=True)
class EmulatorConfig:
    """Everything about the emulator that tests and developers may change.

    ``tokens`` lists the accepted developer tokens (None accepts any);
    ``clients`` maps client ids to secrets (None accepts any pair);
    ``jwt_public_keys`` maps JWT key ids to PEM public keys whose signatures
    are then checked. ``user_limits`` apply per Box user (As-User included)
    and ``enterprise_limits`` to the whole account, per request class.
    Metadata is written ``save_delay`` seconds after a change (0 writes at
    once), synced to disk when ``durable``. ``commit_processing`` is how many
    times a chunked upload's commit first returns 202 with Retry-After, as
    Box does while it assembles parts.
    """

    tokens: list[str] | None = None
    clients: dict[str, str] | None = None
    jwt_public_keys: dict[str, str] | None = None
    token_lifetime: float = 3600.0
    latency: float = 0.0
    user_limits: dict[str, RateLimit] = field(default_factory=dict)
    enterprise_limits: dict[str, RateLimit] = field(default_factory=dict)
    retry_after_form: str = "seconds"
    part_size: int = 8 * 1024 * 1024
    min_chunked_size: int = 20_000_000
    commit_processing: int = 0
    commit_retry_after: float = 1.0
    session_lifetime: float = 7 * 24 * 3600.0
    durable: bool = True
    save_delay: float = 0.2

    def __post_init__(self) -> None:
        self.user_limits = _limits(self.user_limits, "user_limits")
        self.enterprise_limits = _limits(self.enterprise_limits, "enterprise_limits")
        if self.retry_after_form not in RETRY_AFTER_FORMS:
            raise BoxConfigError(
                f"retry_after_form {self.retry_after_form!r} is unknown; use "
                f"{' or '.join(RETRY_AFTER_FORMS)}"
            )
        if self.part_size < 1 or self.min_chunked_size < 0:
            raise BoxConfigError(
                f"part_size must be at least 1 and min_chunked_size at least 0, "
                f"got {self.part_size} and {self.min_chunked_size}"
            )
        if self.token_lifetime <= 0:
            raise BoxConfigError(
                f"token_lifetime must be above 0 seconds, got {self.token_lifetime}"
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> EmulatorConfig:
        """Build a config from a mapping such as a parsed YAML file."""
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known - {"box_limits"})
        if unknown:
            raise BoxConfigError(
                f"unknown emulator settings {unknown}; known ones are "
                f"{sorted(known | {'box_limits'})}"
            )
        chosen = {key: value for key, value in values.items() if key in known}
        if values.get("box_limits"):
            chosen.setdefault("user_limits", dict(BOX_USER_LIMITS))
            chosen.setdefault("enterprise_limits", dict(BOX_ENTERPRISE_LIMITS))
        try:
            return cls(**chosen)
        except TypeError as error:
            raise BoxConfigError(f"invalid emulator settings: {error}") from error

    def updated(self, **changes: Any) -> EmulatorConfig:
        """Return a copy with ``changes`` applied and checked."""
        return replace(self, **changes)


def load_config(path: str | Path) -> EmulatorConfig:
    """Read emulator settings from a YAML or JSON file."""
    source = Path(path)
    try:
        text = source.read_text("utf-8")
    except OSError as error:
        raise BoxConfigError(
            f"cannot read emulator config {source}: {error.strerror}"
        ) from error
    try:
        if source.suffix.lower() == ".json":
            values = json.loads(text)
        else:
            values = yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise BoxConfigError(
            f"emulator config {source} is not valid YAML or JSON: {error}"
        ) from error
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise BoxConfigError(
            f"emulator config {source} must hold a mapping of settings, got "
            f"{type(values).__name__}"
        )
    return EmulatorConfig.from_mapping(values)
