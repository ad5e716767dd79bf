"""The ``files.process`` queue task: validate a ready file, hand it on, move it."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sentinel.core import PermanentTaskError, TaskContext
from sentinel.files._base import DataFile
from sentinel.files._errors import FilesError, RouteNotFoundError
from sentinel.files._formats import load_file

logger = logging.getLogger(__name__)

REASON_SUFFIX = ".reason.txt"


def find_route(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Return the route called ``name`` from the ``files.routes`` config."""
    routes = (config.get("files") or {}).get("routes") or []
    for route in routes:
        if route.get("name") == name:
            return dict(route)
    known = ", ".join(str(route.get("name")) for route in routes) or "none"
    raise RouteNotFoundError(
        f"route {name!r} is not in files.routes (known: {known}); the job was "
        f"enqueued with a config that the worker does not have",
        hint="Start the workers with the same config file as the watcher.",
    )


def process_file(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Load and validate the file of ``payload``, run the route's task, move it.

    A file that fails validation moves to the route's failed folder with a
    ``.reason.txt`` beside it and the job fails at once. A failure of the
    route's task propagates so the queue retries it; on the last attempt the
    file moves to the failed folder first.
    """
    try:
        route = find_route(ctx.config, payload["route"])
    except (FilesError, KeyError) as exc:
        raise PermanentTaskError(str(exc)) from exc
    path = Path(payload["path"])
    relative = payload["relative"]
    if not path.is_file():
        logger.info("%s: job %s: file is gone, already handled", path, ctx.job_id)
        return {"status": "missing", "path": str(path)}

    try:
        loaded = load_file(path)
    except FilesError as exc:
        moved = fail_file(path, route, relative, describe_error(exc))
        logger.warning("%s: job %s: rejected (%s)", path, ctx.job_id, exc.code)
        raise PermanentTaskError(f"{exc} (moved to {moved})") from exc

    ctx.progress(0.3, f"{loaded.format} file is valid")
    task_payload = {"path": str(path), "relative": relative, **route.get("options", {})}
    try:
        result = ctx.call(route["task"], task_payload)
    except PermanentTaskError as exc:
        fail_file(path, route, relative, f"The task {route['task']} failed: {exc}")
        raise
    except Exception as exc:
        if ctx.attempt >= ctx.max_attempts:
            reason = (
                f"The task {route['task']} failed on the last of "
                f"{ctx.max_attempts} attempts: {type(exc).__name__}: {exc}"
            )
            fail_file(path, route, relative, reason)
        raise

    destination = move_unique(path, _folder(route, "processed") / relative)
    logger.info("%s: job %s: processed, moved to %s", path, ctx.job_id, destination)
    return {
        "status": "processed",
        "format": loaded.format,
        "path": str(destination),
        "summary": short_summary(loaded),
        "result": result,
    }


def _folder(route: Mapping[str, Any], key: str) -> Path:
    # Relative folders are resolved against the worker's working directory,
    # which ``sentinel run`` sets to the agent's working directory.
    return Path(route.get(key) or key).resolve()


def fail_file(path: Path, route: Mapping[str, Any], relative: str, reason: str) -> Path:
    """Move ``path`` to the route's failed folder and write the reason beside it."""
    destination = move_unique(path, _folder(route, "failed") / relative)
    reason_path = destination.with_name(destination.name + REASON_SUFFIX)
    reason_path.write_text(reason.rstrip() + "\n", encoding="utf-8")
    return destination


def move_unique(source: Path, target: Path) -> Path:
    """Move ``source`` to ``target``, adding `` (n)`` to the name on a clash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    candidate = target
    number = 1
    while candidate.exists():
        candidate = target.with_name(f"{target.stem} ({number}){target.suffix}")
        number += 1
    shutil.move(str(source), str(candidate))
    return candidate


def describe_error(exc: FilesError) -> str:
    """Write a rejected file's error as plain sentences for a ``.reason.txt``."""
    lines = [
        f"The file was rejected as {exc.format or 'an unknown format'}.",
        f"Error code: {exc.code}.",
        f"Reason: {exc.message}",
    ]
    where = ", ".join(f"{key} {value}" for key, value in exc.location.items())
    if where:
        lines.append(f"Location: {where}.")
    if exc.hint:
        lines.append(f"What to do: {exc.hint}")
    return "\n".join(lines)


def short_summary(loaded: DataFile) -> dict[str, Any]:
    """Keep the summary fields that fit in a job result."""
    summary = loaded.summary()
    keep = (
        "format",
        "bytes",
        "encoding",
        "delimiter",
        "rows",
        "columns",
        "sheet_names",
        "root",
        "documents",
    )
    short = {key: summary[key] for key in keep if key in summary}
    short["warnings"] = len(summary["warnings"])
    return short
