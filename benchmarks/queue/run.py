"""Compare sentinel-queue with other Python Redis job queues on one embedded server.

Run from the repository root: ``.venv/bin/python benchmarks/queue/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import WORKLOADS, Bench, Result

from sentinel.queue import EmbeddedRedis

SYSTEMS = (
    "sentinel",
    "sentinel_batched",
    "sentinel_many",
    "sentinel_producer",
    "sentinel_producer_batched",
    "rq",
    "arq",
    "dramatiq",
    "celery",
    "saq",
    "taskiq",
    "huey",
)
LABELS = {
    "sentinel": "sentinel-queue",
    "sentinel_batched": "sentinel-queue (exact_attempts off)",
    "sentinel_many": "sentinel-queue (enqueue_many producer)",
    "sentinel_producer": "sentinel-queue (Producer)",
    "sentinel_producer_batched": "sentinel-queue (Producer, exact_attempts off)",
    "rq": "RQ (SimpleWorker)",
    "arq": "arq",
    "dramatiq": "Dramatiq (Redis broker)",
    "celery": "Celery (Redis transport)",
    "saq": "SAQ",
    "taskiq": "taskiq + taskiq-redis (list)",
    "huey": "Huey (RedisHuey)",
}
WORKLOAD_LABELS = {"noop": "no-op", "sleep": "sleep 1 ms"}
HEADERS = (
    "system",
    "workload",
    "per process",
    "jobs/s",
    "vs sentinel",
    "client cmds/job",
    "calls/job",
    "reads/job",
    "note",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--jobs", type=int, default=20_000, help="Jobs per workload (default 20000)."
    )
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"Comma-separated systems to run (default: {','.join(SYSTEMS)}).",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help="Comma-separated workloads: noop, sleep (default: both).",
    )
    parser.add_argument(
        "--monitor-jobs",
        type=int,
        default=2_000,
        help="Jobs of the separate MONITOR pass that counts client commands "
        "(default 2000, at most --jobs; 0 skips it).",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="Jobs each worker process runs at a time, where the system can "
        "(default: 1, and arq's own default of 10 for arq).",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="Seconds one workload may take (default: 120 + 0.05 per job).",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="Print the table as Markdown."
    )
    parser.add_argument("--json", type=Path, help="Also write raw results here.")
    args = parser.parse_args(argv)

    args.systems = [name.strip() for name in args.systems.split(",") if name.strip()]
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = set(args.systems) - set(SYSTEMS) | set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown systems or workloads: {', '.join(sorted(unknown))}")
    if args.concurrency is not None and args.concurrency < 1:
        parser.error(f"--concurrency is {args.concurrency}; expected 1 or more")
    if args.jobs < 1:
        parser.error(f"--jobs is {args.jobs}; expected 1 or more")
    args.monitor_jobs = max(0, min(args.monitor_jobs, args.jobs))
    if args.timeout is None:
        args.timeout = 120.0 + 0.05 * args.jobs
    return args


def run(args: argparse.Namespace) -> list[Result]:
    """Start the embedded server and measure every system on every workload."""
    results = []
    with tempfile.TemporaryDirectory(prefix="queue-bench-") as tmp:
        workdir = Path(tmp)
        server = EmbeddedRedis(workdir / "redis")
        server.start()
        os.environ["QUEUE_BENCH_URL"] = server.url
        try:
            bench = Bench(server.url, workdir, args.timeout, args.concurrency)
            for name in args.systems:
                for workload in args.workloads:
                    print(f"# {name} {workload} ...", file=sys.stderr, flush=True)
                    result = bench.measure(name, workload, args.jobs, args.monitor_jobs)
                    results.append(result)
        finally:
            server.stop()
    return results


def rows(results: list[Result]) -> list[tuple[str, ...]]:
    """Format one table row per system and workload."""
    reference = {
        r.workload: r.jobs_per_second
        for r in results
        if r.system == "sentinel" and not r.error
    }
    table = []
    for r in results:
        label = LABELS[r.system]
        workload = WORKLOAD_LABELS[r.workload]
        at_a_time = str(r.jobs_at_a_time)
        if r.error:
            table.append((label, workload, at_a_time, *["-"] * 5, r.error))
            continue
        base = reference.get(r.workload)
        ratio = f"{r.jobs_per_second / base:.2f}x" if base else "-"
        client = f"{r.client_commands_per_job:.2f}" if r.monitor_jobs else "-"
        table.append(
            (
                label,
                workload,
                at_a_time,
                f"{r.jobs_per_second:,.0f}",
                ratio,
                client,
                f"{r.calls_per_job:.2f}",
                f"{r.reads_per_job:.2f}",
                "",
            )
        )
    return table


def render(table: list[tuple[str, ...]], markdown: bool) -> str:
    """Lay out the rows as an aligned text table or a Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(HEADERS) + " |"]
        lines.append("|" + "|".join("---" for _ in HEADERS) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in table]
        return "\n".join(lines)
    widths = [
        max(len(HEADERS[i]), *(len(row[i]) for row in table))
        for i in range(len(HEADERS))
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True))]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        for row in table
    ]
    return "\n".join(line.rstrip() for line in lines)


def _interrupt(signum: int, frame: object) -> None:
    # Unwinding stops the worker processes and the server on the way out.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    results = run(args)
    print(render(rows(results), args.markdown))
    if args.json:
        args.json.write_text(
            json.dumps([asdict(r) for r in results], indent=2), encoding="utf-8"
        )
    return 1 if all(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
