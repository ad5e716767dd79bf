"""Run the files benchmark: sentinel's readers and watcher against their peers.

Generates a CSV and an XLSX file of the requested size in a temporary
folder and adds a few real files from the corpus when it is present. Every
reader reads every file of its format, each case in a fresh process. Then
the watcher's close-to-notification latency is timed against bare inotify.
Prints Markdown tables, and ``--json`` also writes every number to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from _inputs import InputFile, corpus_files, csv_options, write_csv, write_xlsx
from _latency import WATCH_CASES, measure_latency
from _readers import CASES, measure, profile
from _report import latency_table, reading_table

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parents[2] / "shared" / "corpus"
# sentinel's speed as a multiple of each peer's, where a goal is set.
GOALS = {"xlsx-calamine": 0.9, "xlsx-openpyxl": 4.0, "csv-module": 0.8}
SECTIONS = ("xlsx", "csv", "watch")
PEERS = (
    "python-calamine",
    "openpyxl",
    "xlsxwriter",
    "pandas",
    "watchdog",
    "inotify-simple",
)


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line; every size has the full benchmark's default."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="generated rows")
    parser.add_argument(
        "--columns", type=int, default=10, help="generated columns (mixed types)"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs per case; the median counts"
    )
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed runs per case before timing"
    )
    parser.add_argument(
        "--watch-files", type=int, default=200, help="files dropped per watcher case"
    )
    parser.add_argument(
        "--quiet-seconds",
        type=float,
        default=1.0,
        help="the watcher's quiet period in seconds (the files config default)",
    )
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=1.0,
        help="the watcher's wait after a close in seconds (the config default)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="real-file corpus folder; picked files are read when present",
    )
    parser.add_argument("--no-corpus", action="store_true", help="skip corpus files")
    parser.add_argument(
        "--only", choices=SECTIONS, action="append", help="run only these sections"
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds allowed per case"
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep generated files here instead of a temp dir"
    )
    parser.add_argument("--json", type=Path, help="also write all results here")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print cProfile's top functions for sentinel's readers",
    )
    parser.add_argument(
        "--report", type=Path, help="print the tables of a --json file and exit"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_child(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one case in a fresh interpreter and return its result or error."""
    command = [sys.executable, str(HERE / "run.py"), "--child", json.dumps(spec)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
        return {"error": f"failed: {lines[-1][:80]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def child_main(encoded: str) -> int:
    """Measure the one case described by ``encoded`` and print its JSON."""
    spec = json.loads(encoded)
    if spec["case"].startswith("watch-"):
        result = measure_latency(spec)
    else:
        result = measure(spec)
    print(json.dumps(result))
    return 0


def prepare_inputs(args: argparse.Namespace, folder: Path) -> list[InputFile]:
    """Write the generated files and add the corpus picks."""
    sections = args.only or SECTIONS
    inputs = []
    if "xlsx" in sections:
        started = time.perf_counter()
        inputs.append(write_xlsx(folder / "generated.xlsx", args.rows, args.columns))
        _progress(f"wrote generated.xlsx in {time.perf_counter() - started:.1f} s")
    if "csv" in sections:
        inputs.append(write_csv(folder / "generated.csv", args.rows, args.columns))
    if not args.no_corpus and args.corpus.is_dir():
        for found in corpus_files(args.corpus):
            if found.format in sections:
                inputs.append(found)
    for index, found in enumerate(inputs):
        if found.format == "csv" and not found.options:
            inputs[index] = InputFile(
                found.format, found.label, found.path, csv_options(found.path)
            )
    return inputs


def run_reading(args: argparse.Namespace, inputs: list[InputFile]) -> list[Any]:
    """Time every reader on every file of its format, sentinel first."""
    results = []
    for found in inputs:
        sentinel_median = None
        for case in (case for case in CASES if case.format == found.format):
            spec = {
                "case": case.name,
                "path": str(found.path),
                "options": found.options,
                "repeat": args.repeat,
                "warmup": args.warmup,
            }
            _progress(f"{case.label} on {found.label}")
            result = run_child(spec, args.timeout)
            result.update(
                file=found.label,
                format=found.format,
                case=case.name,
                label=case.label,
                output=case.output,
            )
            if case.name.endswith("-sentinel"):
                sentinel_median = result.get("median")
            _compare(result, sentinel_median)
            results.append(result)
    return results


def _compare(result: dict[str, Any], sentinel_median: float | None) -> None:
    median = result.get("median")
    if result["case"].endswith("-sentinel") or not median or not sentinel_median:
        return
    result["ratio"] = median / sentinel_median
    goal = GOALS.get(result["case"])
    if goal is not None:
        result["goal"] = goal
        result["met"] = result["ratio"] >= goal


def run_latency(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    """Time close-to-notification latency for each watcher case."""
    results = []
    for case in WATCH_CASES:
        spec = {
            "case": case.name,
            "folder": str(folder / case.name),
            "count": args.watch_files,
            "quiet_seconds": args.quiet_seconds,
            "settle_seconds": args.settle_seconds,
            "timeout": max(5.0, 5 * max(args.quiet_seconds, args.settle_seconds)),
        }
        _progress(f"{case.label}, {args.watch_files} files")
        result = run_child(spec, args.timeout)
        result.update(case=case.name, label=case.label)
        results.append(result)
    return results


def environment() -> dict[str, Any]:
    """Describe the machine and the versions that produced the numbers."""
    versions = {}
    for name in ("sentinel-files", *PEERS):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "commit": _commit(),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "versions": versions,
    }


def _commit() -> str:
    # The readers under test change often, so the numbers name the commit
    # and whether sentinel-files had uncommitted changes.
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--", "packages/sentinel-files/src"],
            cwd=HERE.parents[1],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} with uncommitted sentinel-files changes" if changes else head


def reprint(path: Path) -> int:
    """Print the tables of a results file written by ``--json``."""
    document = json.loads(path.read_text())
    settings = document["settings"]
    args = parse_arguments(
        [
            f"--rows={settings['rows']}",
            f"--columns={settings['columns']}",
            f"--repeat={settings['repeat']}",
            f"--warmup={settings['warmup']}",
            f"--watch-files={settings['watch_files']}",
            f"--quiet-seconds={settings['quiet_seconds']}",
            f"--settle-seconds={settings.get('settle_seconds', 1.0)}",
        ]
    )
    print_report(args, document["environment"], document)
    return 0


def print_report(
    args: argparse.Namespace, env: dict[str, Any], results: dict[str, Any]
) -> None:
    """Print the settings, the environment and one table per section."""
    versions = ", ".join(f"{name} {ver}" for name, ver in env["versions"].items())
    print(
        f"\nFiles benchmark: {args.rows:,} rows x {args.columns} columns generated, "
        f"median of {args.repeat} runs after {args.warmup} warm-up, "
        f"{args.watch_files} files per watcher case, settle_seconds "
        f"{args.settle_seconds:g}, quiet_seconds {args.quiet_seconds:g}"
    )
    print(
        f"Commit {env['commit']}; Python {env['python']} on {env['machine']}, "
        f"{env['cpus']} CPUs, load average {env['load_average']} at start, "
        f"{env['load_average_end']} at end"
    )
    print(f"Versions: {versions}")
    print("sentinel speed = the tool's median time / sentinel's median time")
    print("peak MiB = resident memory high-water mark above the size after imports")
    for section in ("xlsx", "csv"):
        rows = [result for result in results["reading"] if result["format"] == section]
        if rows:
            print(f"\n{section.upper()} reading\n")
            print(reading_table(rows))
    if results["latency"]:
        print("\nClose-to-notification latency (above the designed wait: overhead)\n")
        print(latency_table(results["latency"]))


def print_profiles(inputs: list[InputFile]) -> None:
    """Print where sentinel's readers spend their time on the generated files."""
    for found in inputs:
        if not found.label.startswith("generated"):
            continue
        case = f"{found.format}-sentinel"
        print(f"\ncProfile of {case} on {found.label}\n")
        print(profile(case, found.path, found.options, top=15))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark sections selected by the command-line options."""
    args = parse_arguments(argv)
    if args.child:
        return child_main(args.child)
    if args.report:
        return reprint(args.report)
    env = environment()
    with tempfile.TemporaryDirectory(prefix="sentinel-files-bench-") as temporary:
        folder = args.workdir or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        inputs = prepare_inputs(args, folder)
        results: dict[str, Any] = {"reading": run_reading(args, inputs)}
        sections = args.only or SECTIONS
        results["latency"] = run_latency(args, folder) if "watch" in sections else []
        env["load_average_end"] = [round(value, 2) for value in os.getloadavg()]
        print_report(args, env, results)
        if args.profile:
            print_profiles(inputs)
    if args.json:
        settings = {key: str(value) for key, value in vars(args).items()}
        document = {"settings": settings, "environment": env, **results}
        args.json.write_text(json.dumps(document, indent=2))
    return 0


def _progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
