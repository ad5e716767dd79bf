"""The reading cases of the files benchmark, each timed in its own process."""

from __future__ import annotations

import csv
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A reader takes the file and the shared options and returns how many
# records it produced, header row included, so the table can show that
# every tool read the same file.
Reader = Callable[[Path, dict[str, Any]], int]


@dataclass(frozen=True)
class Case:
    """One tool reading one format, and what it produces."""

    name: str
    format: str
    label: str
    output: str
    prepare: Callable[[], Reader]


def _sentinel_xlsx() -> Reader:
    from sentinel.files import XlsxFile

    def read(path: Path, options: dict[str, Any]) -> int:
        loaded = XlsxFile.load(path)
        return len(loaded.rows(0))

    return read


def _calamine() -> Reader:
    import python_calamine

    def read(path: Path, options: dict[str, Any]) -> int:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        try:
            return len(workbook.get_sheet_by_index(0).to_python())
        finally:
            workbook.close()

    return read


def _openpyxl_read_only() -> Reader:
    import openpyxl

    def read(path: Path, options: dict[str, Any]) -> int:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            return sum(1 for _ in sheet.iter_rows(values_only=True))
        finally:
            workbook.close()

    return read


def _sentinel_csv() -> Reader:
    from sentinel.files import CsvFile

    def read(path: Path, options: dict[str, Any]) -> int:
        loaded = CsvFile.load(path)
        return 1 + sum(1 for _ in loaded.typed_rows())

    return read


def _csv_module() -> Reader:
    def read(path: Path, options: dict[str, Any]) -> int:
        with path.open(encoding=options["encoding"], newline="") as stream:
            reader = csv.reader(stream, delimiter=options["delimiter"])
            return sum(1 for _ in reader)

    return read


def _to_value(text: str) -> Any:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _csv_module_typed() -> Reader:
    def read(path: Path, options: dict[str, Any]) -> int:
        with path.open(encoding=options["encoding"], newline="") as stream:
            reader = csv.reader(stream, delimiter=options["delimiter"])
            count = 0
            for row in reader:
                _typed = [_to_value(text) for text in row]
                count += 1
            return count

    return read


def _pandas_csv() -> Reader:
    import pandas

    def read(path: Path, options: dict[str, Any]) -> int:
        frame = pandas.read_csv(
            path,
            sep=options["delimiter"],
            encoding=options["encoding"],
            low_memory=False,
        )
        return 1 + len(frame)

    return read


CASES = (
    Case("xlsx-sentinel", "xlsx", "sentinel XlsxFile", "typed", _sentinel_xlsx),
    Case("xlsx-calamine", "xlsx", "python-calamine", "typed", _calamine),
    Case("xlsx-openpyxl", "xlsx", "openpyxl read-only", "typed", _openpyxl_read_only),
    Case("csv-sentinel", "csv", "sentinel CsvFile", "typed", _sentinel_csv),
    Case("csv-module", "csv", "csv module", "text", _csv_module),
    Case("csv-module-typed", "csv", "csv + int()/float()", "typed", _csv_module_typed),
    Case("csv-pandas", "csv", "pandas.read_csv", "columns", _pandas_csv),
)
CASES_BY_NAME = {case.name: case for case in CASES}


def _memory_status(field: str) -> int:
    # VmHWM starts afresh at exec, unlike getrusage's ru_maxrss, which keeps
    # the high-water mark of the parent that forked this process.
    with open("/proc/self/status") as stream:
        for line in stream:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(f"/proc/self/status has no {field} line")


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Time one case on one file in this process; return times and memory.

    The warm-up runs import lazily loaded code and fill the page cache, so
    the timed runs measure reading alone. Peak memory is the process's
    resident high-water mark (VmHWM) minus its resident size after the
    imports, so it counts memory held by Rust and C code too.
    """
    warnings.simplefilter("ignore")
    case = CASES_BY_NAME[spec["case"]]
    path = Path(spec["path"])
    options = spec.get("options", {})
    reader = case.prepare()
    baseline = _memory_status("VmRSS")
    for _ in range(spec["warmup"]):
        reader(path, options)
    times = []
    records = 0
    for _ in range(spec["repeat"]):
        start = time.perf_counter()
        records = reader(path, options)
        times.append(time.perf_counter() - start)
    peak = _memory_status("VmHWM")
    return {
        "times": times,
        "median": statistics.median(times),
        "records": records,
        "peak_bytes": peak,
        "peak_above_baseline": max(0, peak - baseline),
    }


def profile(case_name: str, path: Path, options: dict[str, Any], top: int) -> str:
    """Run one case once under cProfile and return the top functions by time."""
    import cProfile
    import io
    import pstats

    reader = CASES_BY_NAME[case_name].prepare()
    profiler = cProfile.Profile()
    profiler.runcall(reader, path, options)
    output = io.StringIO()
    stats = pstats.Stats(profiler, stream=output)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return output.getvalue()
