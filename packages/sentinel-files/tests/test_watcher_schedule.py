"""Tests of the watcher's timer schedule: when each pending file is due."""

from __future__ import annotations

import pytest

from sentinel.files._watcher import (
    CHANGED,
    CLOSED,
    SCANNED,
    _Pending,
    due_time,
    seconds_until,
)

QUIET = 2.0
SETTLE = 1.0


def due(entry: _Pending, *, polling: bool = False) -> float | None:
    return due_time(entry, polling=polling, quiet_seconds=QUIET, settle_seconds=SETTLE)


@pytest.mark.parametrize(
    ("how", "opened", "expected"),
    [
        (CLOSED, 0, 11.0),
        (SCANNED, 0, 11.0),
        (CHANGED, 0, 12.0),
        (CHANGED, 1, None),
        (CLOSED, 1, 11.0),
    ],
    ids=["closed", "scanned", "changed", "changed-open", "closed-ignores-open"],
)
def test_due_time_by_event(how: str, opened: int, expected: float | None) -> None:
    assert due(_Pending(10.0, how, opened=opened)) == expected


def test_due_time_polling_waits_quiet_period() -> None:
    assert due(_Pending(10.0, CLOSED), polling=True) == 12.0
    assert due(_Pending(10.0, CHANGED, opened=3), polling=True) == 12.0


def test_due_time_polling_waits_for_recheck() -> None:
    entry = _Pending(10.0, CHANGED, recheck=15.5)
    assert due(entry, polling=True) == 15.5


def test_seconds_until_earliest_due() -> None:
    assert seconds_until([13.0, 10.25, None, 12.0], now=10.0, limit=0.5) == 0.25


def test_seconds_until_past_due_is_zero() -> None:
    assert seconds_until([9.0, 11.0], now=10.0, limit=0.5) == 0.0


def test_seconds_until_capped_by_limit() -> None:
    assert seconds_until([30.0], now=10.0, limit=0.5) == 0.5


@pytest.mark.parametrize("due_times", [[], [None, None]], ids=["empty", "all-open"])
def test_seconds_until_nothing_due(due_times: list[float | None]) -> None:
    assert seconds_until(due_times, now=10.0, limit=0.5) == 0.5
