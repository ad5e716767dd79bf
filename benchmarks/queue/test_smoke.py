"""Smoke test of the queue benchmark: sentinel alone, 200 jobs per workload."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent / "run.py"
HEADER = [
    "system",
    "workload",
    "per process",
    "jobs/s",
    "vs sentinel",
    "client cmds/job",
    "calls/job",
    "reads/job",
    "note",
]


def cells(line: str) -> list[str]:
    """Split a table line on the runs of two or more spaces between columns."""
    return re.split(r"\s{2,}", line.strip())


def test_queue_benchmark_sentinel_table() -> None:
    completed = subprocess.run(
        [sys.executable, str(RUN), "--systems", "sentinel", "--jobs", "200"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    lines = completed.stdout.strip().splitlines()
    assert cells(lines[0]) == HEADER
    rows = [cells(line) for line in lines[1:]]
    assert [row[:2] for row in rows] == [
        ["sentinel-queue", "no-op"],
        ["sentinel-queue", "sleep 1 ms"],
    ]
    for row in rows:
        # A row without a note has eight cells; a note means the run failed.
        assert len(row) == 8, row
        assert row[2] == "1"
        assert float(row[3].replace(",", "")) > 0
        assert row[4] == "1.00x"
        client_commands, calls, reads = (float(cell) for cell in row[5:8])
        assert client_commands >= 1
        assert calls >= client_commands
        assert reads >= 1
