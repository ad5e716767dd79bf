"""Tables of the files benchmark, in Markdown so they paste into the docs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MIB = 1024 * 1024


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Lay out ``rows`` as a Markdown table with aligned columns."""
    widths = [len(title) for title in headers]
    for row in rows:
        widths = [
            max(width, len(cell)) for width, cell in zip(widths, row, strict=True)
        ]

    def line(cells: Sequence[str]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    divider = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(headers), divider, *(line(row) for row in rows)])


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _milliseconds(value: float | None) -> str:
    return "" if value is None else f"{value * 1000:.2f}"


def _mebibytes(value: int | None) -> str:
    return "" if value is None else f"{value / MIB:.1f}"


def _ratio(result: dict[str, Any]) -> str:
    ratio = result.get("ratio")
    return "" if ratio is None else f"{ratio:.2f}x"


def _goal(result: dict[str, Any]) -> str:
    goal = result.get("goal")
    if goal is None:
        return ""
    verdict = "met" if result.get("met") else "missed"
    return f">= {goal:g}x: {verdict}"


def reading_table(results: Sequence[dict[str, Any]]) -> str:
    """Tabulate reading results; sentinel's speed is relative to each tool."""
    headers = (
        "file",
        "tool",
        "output",
        "records",
        "median s",
        "min s",
        "peak MiB",
        "sentinel speed",
        "goal",
    )
    rows = []
    for result in results:
        error = result.get("error")
        rows.append(
            (
                result["file"],
                result["label"],
                result["output"],
                "" if error else f"{result['records']:,}",
                error or _seconds(result["median"]),
                "" if error else _seconds(min(result["times"])),
                "" if error else _mebibytes(result["peak_above_baseline"]),
                _ratio(result),
                _goal(result),
            )
        )
    return markdown_table(headers, rows)


def latency_table(results: Sequence[dict[str, Any]]) -> str:
    """Tabulate close-to-notification latencies in milliseconds.

    The designed wait is the settle period that sentinel's watcher keeps
    after a close, so that a second close of the same save is not reported
    twice. Latency above it is the watcher's overhead.
    """
    headers = (
        "notification",
        "designed wait ms",
        "files",
        "missed",
        "repeated",
        "median ms",
        "p95 ms",
        "max ms",
    )
    rows = []
    for result in results:
        error = result.get("error")
        rows.append(
            (
                result["label"],
                _milliseconds(result.get("designed_wait")),
                str(result.get("files", "")),
                str(result.get("missed", "")),
                str(result.get("repeated", "")),
                error or _milliseconds(result.get("median")),
                _milliseconds(result.get("p95")),
                _milliseconds(result.get("max")),
            )
        )
    return markdown_table(headers, rows)
