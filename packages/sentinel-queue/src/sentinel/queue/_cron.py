"""Periodic jobs: cron expressions in an explicit time zone, each tick enqueued once.

A tick is a local wall-clock minute that matches the expression. Ticks are
named by that wall-clock time, so when clocks go back and a local hour
repeats, its ticks are enqueued once, not twice; when clocks go forward
and a local hour is skipped, its ticks fire at the first minute after the
gap, as classic cron does. Any number of schedulers may run: the queue
keeps a marker per tick and only the first scheduler's call enqueues.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sentinel.queue._errors import QueueError
from sentinel.queue._queue import Queue

logger = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
# How far back a scheduler that starts looks for a tick it may have missed.
START_LOOKBACK = timedelta(minutes=1)

_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
]  # fmt: skip
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# (name, lowest, highest, names for values)
_FIELDS = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


class CronError(QueueError, ValueError):
    """A cron expression or time zone cannot be understood."""


def _value(text: str, names: list[str] | None, low: int, what: str) -> int:
    if names and text.lower() in names:
        return names.index(text.lower()) + (low if names is _MONTHS else 0)
    if not text.isdigit():
        raise CronError(f"{what} value {text!r} is not a number or a known name")
    return int(text)


def _parse_field(
    text: str, what: str, low: int, high: int, names: Any
) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        spec, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if step_text and (not step_text.isdigit() or step < 1):
            raise CronError(f"{what} step {step_text!r} must be a positive number")
        if spec == "*":
            start, end = low, high
        elif "-" in spec:
            first, _, last = spec.partition("-")
            start = _value(first, names, low, what)
            end = _value(last, names, low, what)
        else:
            start = _value(spec, names, low, what)
            end = high if step_text else start
        if not low <= start <= end <= high:
            raise CronError(
                f"{what} range {spec!r} is outside {low}-{high} or runs backwards"
            )
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class CronExpression:
    """A five-field cron expression: minute hour day-of-month month day-of-week.

    Lists, ranges, steps, month and day names and the ``@daily`` style
    aliases are understood; day 7 is Sunday like day 0. When both day
    fields are restricted a day matching either runs, as in classic cron.
    """

    text: str
    minutes: frozenset[int] = field(init=False)
    hours: frozenset[int] = field(init=False)
    days: frozenset[int] = field(init=False)
    months: frozenset[int] = field(init=False)
    weekdays: frozenset[int] = field(init=False)
    any_day: bool = field(init=False)
    any_weekday: bool = field(init=False)

    def __post_init__(self) -> None:
        expanded = _ALIASES.get(self.text.strip().lower(), self.text)
        parts = expanded.split()
        if len(parts) != len(_FIELDS):
            raise CronError(
                f"cron expression {self.text!r} has {len(parts)} fields; expected "
                f"5 (minute hour day-of-month month day-of-week) or an alias such "
                f"as @daily"
            )
        parsed = [
            _parse_field(part, name, low, high, names)
            for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True)
        ]
        weekdays = frozenset(day % 7 for day in parsed[4])
        for name, value in zip(
            ("minutes", "hours", "days", "months", "weekdays"),
            (*parsed[:4], weekdays),
            strict=True,
        ):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "any_day", parts[2] == "*")
        object.__setattr__(self, "any_weekday", parts[4] == "*")

    def matches(self, wall: datetime) -> bool:
        """Whether the wall-clock minute ``wall`` is a tick."""
        if wall.minute not in self.minutes or wall.hour not in self.hours:
            return False
        if wall.month not in self.months:
            return False
        day_ok = wall.day in self.days
        weekday_ok = (wall.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok


def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone ``name`` or raise :class:`CronError`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError(
            f"time zone {name!r} is unknown; use an IANA name such as "
            f"'Europe/Berlin' or 'UTC'"
        ) from exc


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


def ticks(
    expression: CronExpression, tz: ZoneInfo, after: datetime, until: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Yield ``(wall-clock tick, UTC firing time)`` for minutes in (after, until].

    Both bounds are aware datetimes. A tick in a skipped local hour fires at
    the first minute after the gap; a repeated local hour yields its ticks
    once, at their first occurrence.
    """
    instant = after.astimezone(UTC).replace(second=0, microsecond=0)
    previous_wall = _wall(instant, tz)
    end = until.astimezone(UTC)
    seen: set[datetime] = set()
    while True:
        instant += MINUTE
        if instant > end:
            return
        wall = _wall(instant, tz)
        candidates = []
        # Clocks went forward: the local minutes in the gap never happen.
        skipped = previous_wall + MINUTE
        while skipped < wall:
            candidates.append(skipped)
            skipped += MINUTE
        candidates.append(wall)
        previous_wall = max(previous_wall, wall)
        for candidate in candidates:
            if candidate not in seen and expression.matches(candidate):
                seen.add(candidate)
                yield candidate, instant


@dataclass(frozen=True)
class Schedule:
    """A periodic job: ``task`` with ``payload`` at each tick of ``cron``.

    The ticks are wall-clock minutes in ``timezone``, an IANA zone name.
    """

    name: str
    cron: str
    task: str
    timezone: str = "UTC"
    payload: Mapping[str, Any] = field(default_factory=dict)
    expression: CronExpression = field(init=False)
    tz: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "expression", CronExpression(self.cron))
        object.__setattr__(self, "tz", zone(self.timezone))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Schedule:
        """Build a schedule from a config mapping with name, cron, task, timezone."""
        missing = [key for key in ("name", "cron", "task") if not data.get(key)]
        if missing:
            raise CronError(
                f"schedule {dict(data)!r} lacks {', '.join(missing)}; each entry "
                f"of queue.schedules needs name, cron, task and a timezone"
            )
        return cls(
            name=str(data["name"]),
            cron=str(data["cron"]),
            task=str(data["task"]),
            timezone=str(data.get("timezone") or "UTC"),
            payload=dict(data.get("payload") or {}),
        )

    def tick_id(self, wall: datetime) -> str:
        """Name one tick by schedule and local wall-clock time."""
        return f"{self.name}@{wall.isoformat(timespec='minutes')}[{self.timezone}]"


class Scheduler:
    """Enqueue the due ticks of ``schedules`` on ``queue``; call :meth:`run_due` often.

    Every worker may run one: the queue enqueues each tick exactly once.
    """

    def __init__(
        self,
        queue: Queue,
        schedules: Sequence[Schedule],
        *,
        now: datetime | None = None,
    ) -> None:
        self.queue = queue
        self.schedules = list(schedules)
        self._checked = (now or datetime.now(UTC)) - START_LOOKBACK

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Enqueue the ticks since the last call; return the new job ids."""
        current = now or datetime.now(UTC)
        enqueued = []
        for schedule in self.schedules:
            for wall, _ in ticks(
                schedule.expression, schedule.tz, self._checked, current
            ):
                job_id = self.queue.enqueue_tick(
                    schedule.tick_id(wall), schedule.task, schedule.payload
                )
                if job_id is not None:
                    logger.info(
                        "job %s enqueued for schedule %s tick %s",
                        job_id,
                        schedule.name,
                        wall.isoformat(timespec="minutes"),
                    )
                    enqueued.append(job_id)
        self._checked = max(self._checked, current)
        return enqueued
