"""The ``files.process`` queue task: validate a ready file, hand it on, move it."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from sentinel.core import PermanentTaskError, TaskContext
from sentinel.files._base import DataFile
from sentinel.files._detect import find_reader
from sentinel.files._errors import FileOperationError, FilesError, ReaderError
from sentinel.files._formats import load_file, registered_classes
from sentinel.files._issues import Issue
from sentinel.files._moves import REASON_SUFFIX, describe_error, fail_file, move_unique
from sentinel.files._reading import reading_options
from sentinel.files._routes import RouteConfig, find_route, load_routes

logger = logging.getLogger(__name__)

# Warnings of one processed file named in its log line, and kept in its job
# result; the count is always given in full.
MAX_LOGGED = 5
MAX_KEPT = 20

__all__ = [
    "REASON_SUFFIX",
    "describe_error",
    "fail_file",
    "move_unique",
    "process_file",
    "short_summary",
]


def process_file(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Load and validate the file of ``payload``, run the route's task, move it.

    A file that fails validation moves to the route's failed folder with a
    ``.reason.txt`` beside it and the job fails at once. A file whose size
    or modification time differs from the payload's is left in place for
    the watcher to report again. A failure of the route's task propagates
    so the queue retries it; on the last attempt the file moves to the
    failed folder first.
    """
    route = _route(ctx, payload)
    path = Path(payload["path"])
    relative = str(payload["relative"])
    _check_location(ctx, route, path, relative)
    try:
        return _process(ctx, route, path, relative, payload)
    except PermanentTaskError:
        raise
    except Exception as exc:
        # The queue gives up after this attempt, so the file must not stay
        # in the inbox, where the watcher counts it as delivered already.
        if ctx.attempt >= ctx.max_attempts and os.path.lexists(path):
            reason = (
                f"Processing failed on the last of {ctx.max_attempts} attempts: "
                f"{type(exc).__name__}: {exc}"
            )
            _fail(ctx, route, path, relative, reason)
        raise


def _process(
    ctx: TaskContext,
    route: RouteConfig,
    path: Path,
    relative: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    if not os.path.lexists(path):
        logger.info("%r: job %s: file is gone, already handled", str(path), ctx.job_id)
        return {"status": "missing", "path": str(path)}
    _check_link(ctx, route, path, relative)
    if _changed(ctx, path, payload, "before loading"):
        return {"status": "changed", "path": str(path)}

    loaded = _load(ctx, route, path, relative)
    ctx.progress(0.3, f"{loaded.format} file is valid")
    if _changed(ctx, path, payload, "before the task"):
        return {"status": "changed", "path": str(path)}
    result = _call_task(ctx, route, path, relative)
    if _changed(ctx, path, payload, "after the task, before the move"):
        return {"status": "changed", "path": str(path), "result": result}

    destination = _move(path, route.processed / relative, route.key("processed"))
    logger.info(
        "%r: job %s: processed, moved to %r", str(path), ctx.job_id, str(destination)
    )
    _log_warnings(ctx, path, loaded)
    return {
        "status": "processed",
        "format": loaded.format,
        "path": str(destination),
        "summary": short_summary(loaded),
        "result": result,
    }


def _load(ctx: TaskContext, route: RouteConfig, path: Path, relative: str) -> DataFile:
    """Load and validate ``path``, moving it to the failed folder if it fails.

    Only an :class:`OSError` before the last attempt propagates for the
    queue to retry, because a file locked by another program may be
    readable later. Any other exception from a file class is a bug that
    fails the same way on every attempt, so the file moves at once.
    """
    classes = registered_classes(ctx)
    options = _reading_options(ctx, classes)
    try:
        loaded = load_file(path, classes, **options)
        try:
            loaded.validate()
        finally:
            loaded.close()
    except FilesError as exc:
        moved = _fail(ctx, route, path, relative, describe_error(exc))
        logger.warning("%r: job %s: rejected (%s)", str(path), ctx.job_id, exc.code)
        raise PermanentTaskError(f"{exc.describe()} (moved to {moved})") from exc
    except Exception as exc:
        if isinstance(exc, OSError) and ctx.attempt < ctx.max_attempts:
            logger.warning(
                "%r: job %s: reading failed on attempt %d of %d, to be retried: %s",
                str(path),
                ctx.job_id,
                ctx.attempt,
                ctx.max_attempts,
                exc,
            )
            raise
        error = ReaderError.from_exception(exc, path, find_reader(path, classes))
        moved = _fail(ctx, route, path, relative, describe_error(error))
        logger.error(
            "%r: job %s: %s", str(path), ctx.job_id, error.message, exc_info=exc
        )
        raise PermanentTaskError(f"{error.describe()} (moved to {moved})") from exc
    return loaded


def _route(ctx: TaskContext, payload: dict[str, Any]) -> RouteConfig:
    try:
        routes = load_routes(ctx.config.get("files") or {}, Path.cwd())
        return find_route(routes, str(payload["route"]))
    except FilesError as exc:
        raise PermanentTaskError(exc.describe()) from exc
    except KeyError as exc:
        raise PermanentTaskError(
            f"the job payload has no {exc.args[0]!r} key; files.process expects "
            f"path, route and relative"
        ) from exc


def _reading_options(
    ctx: TaskContext, classes: dict[str, type[DataFile]]
) -> dict[str, Any]:
    try:
        return reading_options(ctx.config.get("files") or {}, classes)
    except FilesError as exc:
        raise PermanentTaskError(exc.describe()) from exc


def _check_location(
    ctx: TaskContext, route: RouteConfig, path: Path, relative: str
) -> None:
    """Reject a payload unless ``path`` is ``relative`` inside the route's folder.

    The folder holding the file must resolve, symbolic links included, inside
    the watched folder and outside its processed and failed folders. A link
    as the file itself is left to :func:`_check_link`. The file is not moved,
    because a rejected path may name any file the worker can read.
    """
    reason = _location_error(route, path, relative)
    if reason is None:
        return
    logger.warning(
        "%r: job %s: rejected, not a file of route %r: %s",
        str(path),
        ctx.job_id,
        route.name,
        reason,
    )
    raise PermanentTaskError(
        f"The job payload's path {str(path)!r} with relative {relative!r} was "
        f"rejected: {reason}. The file was not touched.\nWhat to do: put the "
        f"file into {str(route.folder)!r} and let the watcher enqueue it."
    )


def _location_error(route: RouteConfig, path: Path, relative: str) -> str | None:
    """Return why ``path`` and ``relative`` do not name a file of the route."""
    parts = relative.split("/")
    if relative.startswith("/") or any(part in ("", ".", "..") for part in parts):
        return "relative must be a path below the folder without '.' or '..' parts"
    expected = route.folder / relative
    folder = Path(os.path.realpath(path.parent))
    if path.name != expected.name or folder != Path(os.path.realpath(expected.parent)):
        return f"the path is not {str(expected)!r}"
    if not folder.is_relative_to(route.folder):
        return (
            f"the path resolves to {str(folder / path.name)!r}, outside the "
            f"watched folder {str(route.folder)!r}"
        )
    for output in route.exclude:
        if folder.is_relative_to(output):
            return f"the path is inside the output folder {str(output)!r}"
    return None


def _check_link(
    ctx: TaskContext, route: RouteConfig, path: Path, relative: str
) -> None:
    """Reject a symbolic link unless the route follows links inside its folder."""
    if not path.is_symlink():
        return
    target = Path(os.path.realpath(path))
    if not route.follow_symlinks:
        reason = (
            f"The file is a symbolic link to {str(target)!r}, and symbolic links "
            f"are not followed.\nWhat to do: copy the file itself into the folder, "
            f"or set {route.key('follow_symlinks')} to true for links that point "
            f"inside the watched folder."
        )
    elif not target.is_relative_to(route.folder):
        reason = (
            f"The file is a symbolic link to {str(target)!r}, outside the watched "
            f"folder {str(route.folder)!r}; only links inside it are followed.\n"
            f"What to do: copy the file itself into the folder."
        )
    else:
        return
    moved = _fail(ctx, route, path, relative, reason)
    logger.warning("%r: job %s: rejected symbolic link", str(path), ctx.job_id)
    raise PermanentTaskError(f"{reason.splitlines()[0]} (moved to {moved})")


def _changed(ctx: TaskContext, path: Path, payload: dict[str, Any], when: str) -> bool:
    """Tell whether the file differs from the version the watcher reported."""
    if "size" not in payload or "mtime_ns" not in payload:
        return False
    try:
        stat = path.stat()
    except OSError:
        return False
    if (stat.st_size, stat.st_mtime_ns) == (payload["size"], payload["mtime_ns"]):
        return False
    logger.info(
        "%r: job %s: the file changed %s (size %d, was %d); left for the watcher "
        "to report again",
        str(path),
        ctx.job_id,
        when,
        stat.st_size,
        payload["size"],
    )
    return True


def _call_task(ctx: TaskContext, route: RouteConfig, path: Path, relative: str) -> Any:
    task_payload = {"path": str(path), "relative": relative, **route.options}
    try:
        return ctx.call(route.task, task_payload)
    except PermanentTaskError as exc:
        _fail(ctx, route, path, relative, f"The task {route.task} failed: {exc}")
        raise
    except Exception as exc:
        if ctx.attempt >= ctx.max_attempts:
            reason = (
                f"The task {route.task} failed on the last of "
                f"{ctx.max_attempts} attempts: {type(exc).__name__}: {exc}"
            )
            _fail(ctx, route, path, relative, reason)
        raise


def _fail(
    ctx: TaskContext, route: RouteConfig, path: Path, relative: str, reason: str
) -> Path:
    try:
        return fail_file(path, route.failed / relative, reason, route.key("failed"))
    except FileOperationError as exc:
        logger.error("%r: job %s: %s", str(path), ctx.job_id, exc.describe())
        raise PermanentTaskError(exc.describe()) from exc


def _move(source: Path, target: Path, key: str) -> Path:
    try:
        return move_unique(source, target, key)
    except FileOperationError as exc:
        logger.error("%r: %s", str(source), exc.describe())
        raise PermanentTaskError(exc.describe()) from exc


def _describe_issue(issue: Issue) -> str:
    """Render one issue as ``row 4: message``, with its sheet and row when known."""
    where = [f"sheet {issue.sheet!r}"] if issue.sheet else []
    if issue.row is not None:
        where.append(f"row {issue.row}")
    prefix = ", ".join(where)
    return f"{prefix}: {issue.message}" if prefix else issue.message


def _log_warnings(ctx: TaskContext, path: Path, loaded: DataFile) -> None:
    """Log one WARNING line that names the file's warnings, the first few in full."""
    warnings = loaded.warnings
    if not warnings:
        return
    listed = "; ".join(_describe_issue(issue) for issue in warnings[:MAX_LOGGED])
    rest = len(warnings) - MAX_LOGGED
    more = f"; and {rest} more" if rest > 0 else ""
    logger.warning(
        "%r: job %s: processed with %d warning%s: %s%s",
        str(path),
        ctx.job_id,
        len(warnings),
        "" if len(warnings) == 1 else "s",
        listed,
        more,
    )


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
    warnings = summary["warnings"]
    short["warnings"] = len(warnings)
    # The first warnings themselves, so the job result shows rows and
    # messages, not only the count.
    short["warning_details"] = warnings[:MAX_KEPT]
    return short
