"""Tasks that the worker-thread tests register through SENTINEL_EXTRA_PLUGINS."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from sentinel.core import QUEUE_TASK, TaskContext, TypeSpec, hookimpl

MODULE = "queue_thread_tasks"
# How many qthreads.overlap jobs run at once in this process now, and the
# maximum seen so far.
RUNNING = {"now": 0, "max": 0}
CHANGED = threading.Condition()


@hookimpl
def sentinel_types() -> list[TypeSpec]:
    """Declare the thread test tasks as queue tasks."""
    return [
        TypeSpec(QUEUE_TASK, "qthreads.overlap", f"{MODULE}:overlap"),
        TypeSpec(QUEUE_TASK, "qthreads.spin", f"{MODULE}:spin"),
    ]


def overlap(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Count the jobs running at once and return the maximum seen.

    Each job waits, at most payload['wait'] seconds, until payload['target']
    jobs have been seen running at once, so that jobs that can overlap do.
    With payload['log'], it appends the count when it starts and ends.
    """
    target = int(payload["target"])
    with CHANGED:
        RUNNING["now"] += 1
        RUNNING["max"] = max(RUNNING["max"], RUNNING["now"])
        running = RUNNING["now"]
        CHANGED.notify_all()
    if "log" in payload:
        _append(payload["log"], f"start {ctx.job_id} {os.getpid()} {running}")
    try:
        with CHANGED:
            CHANGED.wait_for(
                lambda: RUNNING["max"] >= target, timeout=float(payload["wait"])
            )
            seen = RUNNING["max"]
        time.sleep(float(payload.get("sleep", 0)))
    finally:
        with CHANGED:
            RUNNING["now"] -= 1
    if "log" in payload:
        _append(payload["log"], f"end {ctx.job_id} {os.getpid()} {seen}")
    return {"max": seen}


def spin(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Run a Python loop for payload['seconds'], recording each attempt."""
    _append(payload["log"], f"start {ctx.job_id} {ctx.attempt}")
    deadline = time.monotonic() + float(payload["seconds"])
    count = 0
    while time.monotonic() < deadline:
        count += 1
    _append(payload["log"], f"end {ctx.job_id} {ctx.attempt}")
    return {"count": count}


def _append(path: str, line: str) -> None:
    with Path(path).open("a", encoding="utf-8") as log:
        log.write(line + "\n")
