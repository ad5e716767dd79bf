"""Tests of cron expressions, time zones, DST changes and once-only ticks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis

from sentinel.queue import Queue
from sentinel.queue._cron import (
    CronError,
    CronExpression,
    Schedule,
    Scheduler,
    ticks,
    zone,
)

BERLIN = zone("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def walls(cron: str, tz: str, start: datetime, end: datetime) -> list[str]:
    return [
        f"{wall:%Y-%m-%d %H:%M}>{fired:%H:%M}Z"
        for wall, fired in ticks(CronExpression(cron), zone(tz), start, end)
    ]


@pytest.mark.parametrize(
    ("cron", "wall", "expected"),
    [
        ("*/15 * * * *", datetime(2026, 5, 4, 10, 30), True),
        ("*/15 * * * *", datetime(2026, 5, 4, 10, 31), False),
        ("0 9-17 * * mon-fri", datetime(2026, 5, 4, 9, 0), True),
        ("0 9-17 * * mon-fri", datetime(2026, 5, 3, 9, 0), False),
        ("0 0 1 jan *", datetime(2026, 1, 1, 0, 0), True),
        ("0 0 * * 7", datetime(2026, 5, 3, 0, 0), True),
        ("0 0 13 * fri", datetime(2026, 5, 13, 0, 0), True),
        ("0 0 13 * fri", datetime(2026, 5, 15, 0, 0), True),
        ("0 0 13 * fri", datetime(2026, 5, 14, 0, 0), False),
        ("@daily", datetime(2026, 5, 4, 0, 0), True),
    ],
    ids=[
        "step",
        "step-miss",
        "weekday-range",
        "sunday-miss",
        "month-name",
        "sunday-as-7",
        "day-or-weekday-day",
        "day-or-weekday-weekday",
        "day-or-weekday-miss",
        "alias",
    ],
)
def test_cron_expression_matches(cron: str, wall: datetime, expected: bool) -> None:
    assert CronExpression(cron).matches(wall) is expected


@pytest.mark.parametrize(
    "cron",
    ["* * * *", "61 * * * *", "5-1 * * * *", "*/0 * * * *", "0 0 * foo *"],
    ids=["four-fields", "minute-range", "backwards", "zero-step", "bad-name"],
)
def test_cron_expression_rejects(cron: str) -> None:
    with pytest.raises(CronError):
        CronExpression(cron)


def test_unknown_time_zone() -> None:
    with pytest.raises(CronError, match="Mars/Olympus"):
        zone("Mars/Olympus")


def test_ticks_in_spring_gap_fire_after_it() -> None:
    # Berlin skips 02:00-02:59 on 2026-03-29 (01:00 UTC becomes 03:00 local).
    got = walls(
        "30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 23), utc(2026, 3, 29, 3)
    )
    assert got == ["2026-03-29 02:30>01:00Z"]


def test_ticks_in_repeated_autumn_hour_once() -> None:
    # Berlin repeats 02:00-02:59 on 2026-10-25 (01:00 UTC is 02:00 again).
    got = walls(
        "30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 22), utc(2026, 10, 25, 3)
    )
    assert got == ["2026-10-25 02:30>00:30Z"]


def test_hourly_ticks_across_autumn_change() -> None:
    got = walls(
        "0 * * * *",
        "Europe/Berlin",
        utc(2026, 10, 24, 23, 30),
        utc(2026, 10, 25, 2, 30),
    )
    # 02:00 local comes at 00:00Z and again at 01:00Z; it ticks once.
    assert got == ["2026-10-25 02:00>00:00Z", "2026-10-25 03:00>02:00Z"]


def test_daily_tick_follows_local_time_across_dst() -> None:
    got = walls("0 9 * * *", "Europe/Berlin", utc(2026, 3, 28), utc(2026, 3, 30, 12))
    assert got == [
        "2026-03-28 09:00>08:00Z",
        "2026-03-29 09:00>07:00Z",
        "2026-03-30 09:00>07:00Z",
    ]


def test_each_tick_enqueued_once_by_many_schedulers(client: redis.Redis) -> None:
    queue = Queue(client, "cron")
    schedule = Schedule("every-minute", "* * * * *", "qtest.noop", "Europe/Berlin")
    start = utc(2026, 10, 25, 0, 0, 30)
    schedulers = [Scheduler(queue, [schedule], now=start) for _ in range(3)]
    ids = []
    # Two hours across the autumn change, checked every 20 s by each.
    moment = start
    while moment < start + timedelta(hours=2):
        moment += timedelta(seconds=20)
        for scheduler in schedulers:
            ids += scheduler.run_due(moment)
    # 120 UTC minutes, of which 60 repeat wall-clock minutes of 02:xx,
    # plus the minute before the start that a scheduler looks back to.
    assert len(ids) == len(set(ids)) == 61
    assert queue.counts()["queued"] == 61


def test_schedule_from_config_requires_fields() -> None:
    with pytest.raises(CronError, match="lacks cron"):
        Schedule.from_mapping({"name": "x", "task": "qtest.noop"})
