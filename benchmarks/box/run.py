"""Upload many small files from several processes to a rate-limited Box emulator.

Runs the plain box_sdk_gen client and sentinel's client one after the other
against the same emulator limit and prints the achieved upload rate, the
share of the allowed rate and the 429 answers of each. Run from the
repository root: ``.venv/bin/python benchmarks/box/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CLIENTS = ("plain", "sentinel")
LABELS = {"plain": "box_sdk_gen (plain)", "sentinel": "sentinel.box.make_client"}
UPLOAD_ENDPOINT = "POST /api/2.0/files/content"
TOKEN = "benchmark-token"  # noqa: S105 - the emulator accepts any developer token


@dataclass
class Outcome:
    """What one client achieved in one run."""

    client: str
    files: int
    uploaded: int
    failed: int
    seconds: float
    achieved_rate: float
    allowed_rate: float
    share_of_allowed: float
    responses_429: int
    requests: int
    errors: dict[str, int]
    note: str = ""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--files", type=int, default=2000, help="Files per client (default 2000)."
    )
    parser.add_argument(
        "--workers", type=int, default=4, help="Worker processes (default 4)."
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=20.0,
        help="Uploads per second the emulator allows per user (default 20).",
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=None,
        help="Uploads allowed at once after a pause (default: one second's worth).",
    )
    parser.add_argument(
        "--size", type=int, default=1024, help="Bytes per file (default 1024)."
    )
    parser.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help=f"Comma-separated clients to run (default: {','.join(CLIENTS)}).",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Extra box setting for sentinel's client, dotted, value as JSON; "
        'repeatable (such as rate_limit.upload="20/s").',
    )
    parser.add_argument("--json", action="store_true", help="Print JSON results.")
    return parser.parse_args(argv)


# -- workers -----------------------------------------------------------------


def _plain_client(spec: dict[str, Any]) -> Any:
    from box_sdk_gen import BoxClient, BoxDeveloperTokenAuth
    from box_sdk_gen.networking.base_urls import BaseUrls
    from box_sdk_gen.networking.network import NetworkSession

    urls = BaseUrls(
        base_url=spec["api_url"],
        upload_url=spec["upload_url"],
        oauth_2_url=spec["oauth_url"],
    )
    session = NetworkSession(base_urls=urls)
    return BoxClient(BoxDeveloperTokenAuth(TOKEN), network_session=session)


def _sentinel_client(spec: dict[str, Any]) -> Any:
    from sentinel.box import make_client

    return make_client(spec["settings"])


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Upload this worker's files and return what happened."""
    from box_sdk_gen.managers.uploads import (
        UploadFileAttributes,
        UploadFileAttributesParentField,
    )

    build = _plain_client if spec["client"] == "plain" else _sentinel_client
    client = build(spec)
    parent = UploadFileAttributesParentField(id=spec["folder_id"])
    errors: dict[str, int] = {}
    uploaded = 0
    # Every worker starts at the same moment, as a pool of busy workers would.
    time.sleep(max(0.0, spec["start_at"] - time.time()))
    for path in spec["paths"]:
        attributes = UploadFileAttributes(name=Path(path).name, parent=parent)
        try:
            with open(path, "rb") as stream:
                client.uploads.upload_file(attributes, stream)
            uploaded += 1
        except Exception as error:  # noqa: BLE001 - every failure is counted
            kind = type(error).__name__
            errors[kind] = errors.get(kind, 0) + 1
    return {"uploaded": uploaded, "errors": errors}


# -- the run -----------------------------------------------------------------


def make_files(folder: Path, count: int, size: int) -> list[Path]:
    """Write ``count`` files of ``size`` random bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"file-{index:05d}.bin"
        path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths


def _settings_for(emulator: Any, redis_url: str | None, args: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "api_url": emulator.api_url,
        "upload_url": emulator.upload_url,
        "oauth_url": emulator.oauth_url,
        "auth": {"developer_token": TOKEN},
        "timeout": 30.0,
        "max_attempts": 10,
        "rate_limit": {
            "redis_url": redis_url,
            "upload": f"{args.rate:g}/s",
        },
    }
    for item in args.setting:
        key, _, raw = item.partition("=")
        target = settings
        *parents, leaf = key.split(".")
        for name in parents:
            target = target.setdefault(name, {})
        target[leaf] = json.loads(raw)
    return settings


def _spawn(spec_file: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--worker", str(spec_file)],
        stdout=subprocess.PIPE,
        text=True,
    )


def run_client(
    client: str, emulator: Any, paths: list[Path], args: Any, redis_url: str | None
) -> Outcome:
    """Upload every file with one client through ``args.workers`` processes."""
    from box_sdk_gen.managers.folders import CreateFolderParent

    folder = _plain_client(_urls(emulator)).folders.create_folder(
        f"bench-{client}-{int(time.time() * 1000)}", CreateFolderParent(id="0")
    )
    emulator.limiter.reset()
    # Workers need about a second to import the SDK before the common start.
    start_at = time.time() + 3.0
    shares = [paths[index :: args.workers] for index in range(args.workers)]
    specs = [
        {
            **_urls(emulator),
            "client": client,
            "folder_id": folder.id,
            "paths": [str(path) for path in share],
            "start_at": start_at,
            "settings": _settings_for(emulator, redis_url, args),
        }
        for share in shares
    ]
    processes = []
    for index, spec in enumerate(specs):
        spec_file = paths[0].parent.parent / f"{client}-worker-{index}.json"
        spec_file.write_text(json.dumps(spec))
        processes.append(_spawn(spec_file))
    results = []
    for process in processes:
        out, _ = process.communicate()
        results.append(json.loads(out.strip().splitlines()[-1]))
    return _outcome(
        client,
        emulator=emulator,
        start_at=start_at,
        files=len(paths),
        results=results,
        args=args,
    )


def _urls(emulator: Any) -> dict[str, str]:
    return {
        "api_url": emulator.api_url,
        "upload_url": emulator.upload_url,
        "oauth_url": emulator.oauth_url,
    }


def _outcome(
    client: str,
    *,
    emulator: Any,
    start_at: float,
    files: int,
    results: list[dict[str, Any]],
    args: Any,
) -> Outcome:
    records = [
        record for record in emulator.requests.records() if record.time >= start_at
    ]
    uploads = [record for record in records if record.endpoint == UPLOAD_ENDPOINT]
    done = [record.time for record in uploads if record.status == 201]
    # Timed from the first upload that reached the emulator, so the time the
    # workers spend importing their client counts against neither.
    seconds = (max(done) - uploads[0].time) if done else 0.0
    achieved = len(done) / seconds if seconds > 0 else 0.0
    errors: dict[str, int] = {}
    for result in results:
        for kind, count in result["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    uploaded = sum(result["uploaded"] for result in results)
    return Outcome(
        client=client,
        files=files,
        uploaded=uploaded,
        failed=files - uploaded,
        seconds=round(seconds, 2),
        achieved_rate=round(achieved, 2),
        allowed_rate=args.rate,
        share_of_allowed=round(achieved / args.rate, 3),
        responses_429=sum(1 for r in records if r.status == 429),
        requests=len(records),
        errors=errors,
    )


def run(args: argparse.Namespace) -> list[Outcome]:
    """Start the emulator (and Redis), run each client, return the outcomes."""
    from sentinel.box._emulator import BoxEmulator, EmulatorConfig
    from sentinel.box._emulator._config import RateLimit

    clients = [name.strip() for name in args.clients.split(",") if name.strip()]
    unknown = sorted(set(clients) - set(CLIENTS))
    if unknown:
        raise SystemExit(f"unknown clients {unknown}; use {', '.join(CLIENTS)}")
    limit = RateLimit(
        max(1, round(args.rate * 60)), 60.0, args.burst or max(1, round(args.rate))
    )
    config = EmulatorConfig(user_limits={"upload": limit}, durable=False)
    with tempfile.TemporaryDirectory(prefix="box-bench-") as scratch:
        work = Path(scratch)
        paths = make_files(work / "files", args.files, args.size)
        redis = _start_redis(work) if "sentinel" in clients else None
        try:
            with BoxEmulator(work / "box", config=config) as emulator:
                redis_url = None if redis is None else redis.url
                return [
                    run_client(client, emulator, paths, args, redis_url)
                    for client in clients
                ]
        finally:
            if redis is not None:
                redis.stop()


def _start_redis(work: Path) -> Any:
    from sentinel.queue import EmbeddedRedis

    redis = EmbeddedRedis(work / "redis")
    redis.start()
    return redis


HEADERS = (
    "client",
    "uploaded",
    "failed",
    "s",
    "uploads/s",
    "allowed/s",
    "of allowed",
    "429s",
    "requests",
)


def table(outcomes: list[Outcome]) -> str:
    """Format the outcomes as a Markdown table."""
    rows = [HEADERS, tuple("---" for _ in HEADERS)]
    for outcome in outcomes:
        rows.append(
            (
                LABELS[outcome.client],
                str(outcome.uploaded),
                str(outcome.failed),
                f"{outcome.seconds:.1f}",
                f"{outcome.achieved_rate:.2f}",
                f"{outcome.allowed_rate:g}",
                f"{outcome.share_of_allowed:.1%}",
                str(outcome.responses_429),
                str(outcome.requests),
            )
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, or one worker when called with ``--worker``."""
    if argv is None:
        argv = sys.argv[1:]
    if len(argv) == 2 and argv[0] == "--worker":
        spec = json.loads(Path(argv[1]).read_text("utf-8"))
        print(json.dumps(run_worker(spec)))
        return 0
    args = parse_args(argv)
    outcomes = run(args)
    if args.json:
        print(json.dumps([asdict(outcome) for outcome in outcomes], indent=2))
    else:
        print(
            f"{args.files} files of {args.size} bytes, {args.workers} worker "
            f"processes, emulator limit {args.rate:g} uploads/s per user"
        )
        print(table(outcomes))
        for outcome in outcomes:
            if outcome.errors:
                print(f"{LABELS[outcome.client]} errors: {outcome.errors}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
