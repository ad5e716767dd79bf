"""Tasks that the queue tests register through SENTINEL_EXTRA_PLUGINS."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from sentinel.core import (
    QUEUE_TASK,
    PermanentTaskError,
    TaskContext,
    TypeSpec,
    hookimpl,
)

MODULE = "queue_test_tasks"
TASKS = (
    "noop",
    "flaky",
    "echo",
    "fail",
    "permanent",
    "reject",
    "record",
    "nested",
    "unserialisable",
    "aecho",
    "aflaky",
    "aslow",
)
# How many qtest.aslow jobs run at once now, and the most seen so far.
RUNNING = {"now": 0, "max": 0}


@hookimpl
def sentinel_types() -> list[TypeSpec]:
    """Declare every test task as a queue task."""
    return [TypeSpec(QUEUE_TASK, f"qtest.{name}", f"{MODULE}:{name}") for name in TASKS]


def noop(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Do nothing; return None."""
    return None


def flaky(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Record the attempt; hang on attempt payload['hang_on'], else fail."""
    _append(payload["log"], f"start {ctx.job_id} {os.getpid()} {ctx.attempt}")
    if ctx.attempt == payload.get("hang_on"):
        time.sleep(60)
    raise RuntimeError(f"attempt {ctx.attempt} broke")


def echo(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Return the payload with the attempt number."""
    ctx.progress(1.0, "echoed")
    return {"payload": payload, "attempt": ctx.attempt, "task": ctx.task}


def fail(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Record the attempt in payload['log'] and raise a retryable error."""
    _append(payload["log"], f"{ctx.job_id} {ctx.attempt}")
    raise RuntimeError(f"attempt {ctx.attempt} broke")


def permanent(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Record the attempt and raise PermanentTaskError."""
    _append(payload["log"], f"{ctx.job_id} {ctx.attempt}")
    raise PermanentTaskError(f"bad input {payload.get('value')!r}")


def reject(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Raise PermanentTaskError with payload['message'] as its text, unchanged."""
    raise PermanentTaskError(payload["message"])


def record(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Record the run with the pid, sleep payload['sleep'] seconds, return the pid."""
    _append(payload["log"], f"start {ctx.job_id} {os.getpid()} {ctx.attempt}")
    deadline = time.monotonic() + float(payload.get("sleep", 0))
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.02))
    _append(payload["log"], f"end {ctx.job_id} {os.getpid()} {ctx.attempt}")
    return {"pid": os.getpid()}


def nested(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Call qtest.echo in-process through the context."""
    return ctx.call("qtest.echo", {"inner": payload["value"]})


def unserialisable(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Return a value that JSON cannot hold."""
    return {"when": object()}


def _append(path: str, line: str) -> None:
    with Path(path).open("a", encoding="utf-8") as log:
        log.write(line + "\n")


async def aecho(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Return the payload and the attempt, from a coroutine."""
    await asyncio.sleep(0)
    ctx.progress(1.0, "echoed")
    return {"payload": payload, "attempt": ctx.attempt}


async def aflaky(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Fail until attempt payload['succeed_on'], recording each attempt."""
    _append(payload["log"], f"start {ctx.job_id} {os.getpid()} {ctx.attempt}")
    await asyncio.sleep(0.01)
    if ctx.attempt < payload["succeed_on"]:
        raise RuntimeError(f"attempt {ctx.attempt} broke")
    return {"attempt": ctx.attempt}


async def aslow(ctx: TaskContext, payload: dict[str, Any]) -> Any:
    """Sleep payload['sleep'] seconds, counting how many run at once."""
    RUNNING["now"] += 1
    RUNNING["max"] = max(RUNNING["max"], RUNNING["now"])
    try:
        await asyncio.sleep(float(payload.get("sleep", 0.05)))
    finally:
        RUNNING["now"] -= 1
    return None
