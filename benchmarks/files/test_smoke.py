"""Run the files benchmark on tiny sizes and check its tables, never its speed."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROWS = 200
COLUMNS = 12
WATCH_FILES = 3
READING_CASES = {
    "xlsx": ["xlsx-sentinel", "xlsx-calamine", "xlsx-openpyxl"],
    "csv": ["csv-sentinel", "csv-module", "csv-module-typed", "csv-pandas"],
}
GOAL_CASES = {"xlsx-calamine", "xlsx-openpyxl", "csv-module"}


def _load(name: str) -> ModuleType:
    # The benchmark is a folder of scripts, not a package, so a module is
    # loaded by path under a name no other benchmark folder uses.
    unique = f"files_benchmark{name}"
    spec = importlib.util.spec_from_file_location(unique, HERE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses looks its module up in sys.modules while building a class.
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    for name in ("pandas", "inotify_simple", "python_calamine", "openpyxl"):
        pytest.importorskip(name, reason="pip install -r benchmarks/requirements.txt")
    folder = tmp_path_factory.mktemp("files-bench")
    report = folder / "results.json"
    command = [
        sys.executable,
        str(HERE / "run.py"),
        f"--rows={ROWS}",
        f"--columns={COLUMNS}",
        "--repeat=1",
        "--warmup=0",
        f"--watch-files={WATCH_FILES}",
        "--quiet-seconds=0.2",
        "--settle-seconds=0.2",
        "--no-corpus",
        f"--workdir={folder / 'work'}",
        f"--json={report}",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr
    return {
        "stdout": done.stdout,
        "json": json.loads(report.read_text()),
        "report": report,
    }


def _reading(run: dict[str, Any], file_format: str) -> list[dict[str, Any]]:
    return [row for row in run["json"]["reading"] if row["format"] == file_format]


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_reading_runs_every_case(run: dict[str, Any], file_format: str) -> None:
    rows = _reading(run, file_format)
    assert [row["case"] for row in rows] == READING_CASES[file_format]
    for row in rows:
        assert "error" not in row, row


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_reading_same_record_count(run: dict[str, Any], file_format: str) -> None:
    counts = {row["case"]: row["records"] for row in _reading(run, file_format)}
    assert set(counts.values()) == {ROWS + 1}, counts


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_reading_ratios_and_goals(run: dict[str, Any], file_format: str) -> None:
    for row in _reading(run, file_format):
        assert len(row["times"]) == 1
        assert row["median"] > 0
        assert row["peak_above_baseline"] >= 0
        if row["case"].endswith("-sentinel"):
            assert "ratio" not in row
            continue
        assert row["ratio"] == pytest.approx(row["median"] / _sentinel_median(run, row))
        assert ("goal" in row) == (row["case"] in GOAL_CASES)
        if "goal" in row:
            assert row["met"] == (row["ratio"] >= row["goal"])


def _sentinel_median(run: dict[str, Any], row: dict[str, Any]) -> float:
    sentinel = [
        other
        for other in _reading(run, row["format"])
        if other["case"].endswith("-sentinel") and other["file"] == row["file"]
    ]
    median: float = sentinel[0]["median"]
    return median


def test_latency_each_file_once(run: dict[str, Any]) -> None:
    rows = run["json"]["latency"]
    assert [row["case"] for row in rows] == [
        "watch-inotify",
        "watch-watchdog",
        "watch-sentinel",
    ]
    for row in rows:
        assert row["files"] == WATCH_FILES, row
        assert row["missed"] == 0, row
        assert row["repeated"] == 0, row
        assert row["median"] <= row["p95"] <= row["max"]
    assert rows[0]["designed_wait"] == 0.0
    assert rows[2]["designed_wait"] in {0.0, 0.2}


def test_tables_printed(run: dict[str, Any]) -> None:
    stdout = run["stdout"]
    for title in ("XLSX reading", "CSV reading", "Close-to-notification latency"):
        assert title in stdout
    table_lines = [line for line in stdout.splitlines() if line.startswith("| ")]
    # One header line per table, one line per reading case and watcher case.
    cases = sum(len(names) for names in READING_CASES.values())
    assert len(table_lines) == 3 + cases + 3
    assert sum("generated 200 x 12" in line for line in table_lines) == cases
    assert sum(">= 0.8x" in line for line in table_lines) == 1


def test_report_reprints_tables(run: dict[str, Any]) -> None:
    command = [sys.executable, str(HERE / "run.py"), f"--report={run['report']}"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == run["stdout"]


def test_summarize_percentiles() -> None:
    latency = _load("_latency")
    values = [float(number) for number in range(1, 21)]
    counts = Counter({f"f{number}": 1 for number in range(20)})
    counts["f3"] = 3
    result = latency.summarize([*values, None], counts)
    assert result["files"] == 21
    assert result["missed"] == 1
    assert result["repeated"] == 2
    assert result["median"] == 10.5
    assert result["p95"] == 19.0
    assert result["max"] == 20.0


def test_generated_header_repeats_kinds() -> None:
    inputs = _load("_inputs")
    names = inputs.header(12)
    assert names[:2] == ["id", "amount"]
    assert names[10:] == ["id_1", "amount_1"]
    assert len(set(names)) == 12
