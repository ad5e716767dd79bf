"""Tests of FloodControl with a clock the test advances."""

from __future__ import annotations

import logging

from sentinel.log import FloodControl


class Clock:
    """A monotonic clock that moves only when a test advances ``now``."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(msg: str, *args: object, name: str = "app") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args or None, None)


def test_flood_admits_first_and_counts_repeats() -> None:
    flood = FloodControl(60, Clock())

    admitted = [flood.admit(record("disk full on %s", n)) for n in range(5)]

    assert admitted == [True, False, False, False, False]
    assert flood.suppressed() == 4


def test_flood_summary_due_after_window() -> None:
    clock = Clock()
    flood = FloodControl(60, clock)
    for n in range(3):
        flood.admit(record("disk full on %s", n))

    assert flood.due() == []
    clock.now += 60
    summaries = flood.due()

    assert len(summaries) == 1
    assert summaries[0].count == 2
    assert summaries[0].record.getMessage() == "disk full on 2"
    assert summaries[0].seconds == 60
    assert flood.suppressed() == 0


def test_flood_steady_repeats_stay_suppressed() -> None:
    clock = Clock()
    flood = FloodControl(60, clock)
    flood.admit(record("again"))
    flood.admit(record("again"))
    clock.now += 60
    flood.due()

    clock.now += 1
    # The summary opened a new window, so the flood stays collapsed.
    assert flood.admit(record("again")) is False


def test_flood_quiet_message_admitted_again() -> None:
    clock = Clock()
    flood = FloodControl(60, clock)
    flood.admit(record("once"))
    clock.now += 60

    assert flood.due() == []
    assert flood.admit(record("once")) is True


def test_flood_force_reports_open_windows() -> None:
    flood = FloodControl(60, Clock())
    flood.admit(record("x"))
    flood.admit(record("x"))

    summaries = flood.due(force=True)

    assert [summary.count for summary in summaries] == [1]


def test_flood_distinguishes_logger_names() -> None:
    flood = FloodControl(60, Clock())

    assert flood.admit(record("same", name="a")) is True
    assert flood.admit(record("same", name="b")) is True


def test_flood_window_zero_admits_all() -> None:
    flood = FloodControl(0, Clock())

    assert all(flood.admit(record("same")) for _ in range(3))
    assert flood.due(force=True) == []
