"""The Box queue tasks: ``box.upload``, ``box.download`` and ``box.sync``."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from box_sdk_gen import BoxAPIError, BoxClient, BoxSDKError

from sentinel.box._client import make_client
from sentinel.box._errors import (
    BoxConfigError,
    BoxItemNotFoundError,
    BoxPathError,
)
from sentinel.box._paths import join_path
from sentinel.box._settings import box_settings
from sentinel.box._upload import UploadOptions, upload_file
from sentinel.core import PermanentTaskError, TaskContext

logger = logging.getLogger(__name__)

# Statuses after which the same request can succeed later: timeouts, an etag
# race, rate limits and server errors. Any other rejection is permanent.
RETRYABLE_STATUSES = frozenset({408, 412, 429})
DEFAULT_SESSIONS_DIR = ".sentinel/box-sessions"

# The payload keys of each task, for error messages. The README's Tasks
# section lists the same keys.
PAYLOAD_KEYS = {
    "box.upload": "path and folder, optionally relative, name and on_conflict",
    "box.download": "file_id or box_path, destination, optionally overwrite",
    "box.sync": "path and folder, optionally delete and on_conflict",
}


def _text(
    payload: Mapping[str, Any], key: str, *, required: bool, task: str
) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        if required:
            raise PermanentTaskError(
                f"{task} payload has no {key!r}. The payload takes the keys "
                f"{PAYLOAD_KEYS[task]}, as the Tasks section of the sentinel-box "
                "README describes."
            )
        return None
    if not isinstance(value, str):
        raise PermanentTaskError(f"{task} payload {key!r} is {value!r}; expected text")
    return value


def _flag(payload: Mapping[str, Any], key: str, default: bool, task: str) -> bool:
    value = payload.get(key, default)
    if not isinstance(value, bool):
        raise PermanentTaskError(
            f"{task} payload {key!r} is {value!r}; expected true or false"
        )
    return value


def target_folder(folder: str, relative: str | None) -> str:
    """Return ``folder`` with the parent folders of ``relative`` appended."""
    if not relative:
        return join_path(folder)
    # Watchers on Windows send backslashes; Box paths use forward slashes.
    parts = PureWindowsPath(relative).parts if "\\" in relative else None
    relative_path = PurePosixPath(*parts) if parts else PurePosixPath(relative)
    if relative_path.is_absolute() or ".." in relative_path.parts:
        raise BoxPathError(
            f"relative path {relative!r} must stay inside the route folder; "
            "it may not be absolute or contain '..'"
        )
    return join_path(folder, *relative_path.parent.parts)


def _is_retryable(error: BoxSDKError) -> bool:
    if isinstance(error, BoxAPIError):
        status = error.response_info.status_code
        return status in RETRYABLE_STATUSES or status >= 500
    # Without a response, the request failed in transport (connection refused,
    # timeout, a file that shrank during upload): worth another attempt.
    return isinstance(error.error, OSError)


def _box_message(error: BoxSDKError) -> str:
    if isinstance(error, BoxAPIError):
        info = error.response_info
        message = (info.body or {}).get("message", "")
        return f"{info.status_code} {info.code or ''}: {message}".strip()
    return error.message


def task_client(ctx: TaskContext) -> BoxClient:
    """Build the Box client for a task, sharing Redis with the queue."""
    queue = ctx.config.get("queue") or {}
    return make_client(ctx.config.get("box") or {}, redis_url=queue.get("url"))


def upload_options(ctx: TaskContext, payload: Mapping[str, Any]) -> UploadOptions:
    """Return the upload options from the box section and the payload."""
    box = box_settings(ctx.config.get("box") or {})
    policy = _text(payload, "on_conflict", required=False, task=ctx.task)
    try:
        return UploadOptions(
            on_conflict=policy or str(box["on_conflict"]),
            chunked_threshold=int(box["chunked_threshold"]),
            sessions_dir=Path(DEFAULT_SESSIONS_DIR),
            progress=ctx.progress,
        )
    except BoxPathError as error:
        raise PermanentTaskError(f"{ctx.task}: {error}") from error


@contextmanager
def box_errors(ctx: TaskContext, what: str) -> Iterator[None]:
    """Turn errors retrying cannot fix into PermanentTaskError; let others pass."""
    try:
        yield
    except (BoxConfigError, BoxPathError, BoxItemNotFoundError) as error:
        raise PermanentTaskError(f"{what}: {error}") from error
    except FileNotFoundError as error:
        raise PermanentTaskError(
            f"{what}: local file {error.filename} disappeared"
        ) from error
    except BoxSDKError as error:
        if _is_retryable(error):
            logger.warning(
                "%s: %s failed on attempt %d of %d: %s",
                ctx.job_id,
                what,
                ctx.attempt,
                ctx.max_attempts,
                _box_message(error),
            )
            raise
        raise PermanentTaskError(
            f"{what} was rejected by Box: {_box_message(error)}"
        ) from error


def box_upload(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Upload a local file to a Box folder path; a queue task.

    The payload names the local ``path``, the Box ``folder``, an optional
    ``relative`` path whose parent folders are appended to ``folder``, an
    optional ``name`` (the local file name by default) and an optional
    ``on_conflict`` (overwrite, rename or skip). Returns the action taken
    (``uploaded``, ``new_version``, ``renamed`` or ``skipped``), the Box file
    id, the SHA-1 and the Box path.
    """
    task = "box.upload"
    path = Path(str(_text(payload, "path", required=True, task=task)))
    folder = str(_text(payload, "folder", required=True, task=task))
    name = _text(payload, "name", required=False, task=task) or path.name
    relative = _text(payload, "relative", required=False, task=task)
    try:
        box_folder = target_folder(folder, relative)
        box_path = join_path(box_folder, name)
    except BoxPathError as error:
        raise PermanentTaskError(f"box.upload of {path}: {error}") from error
    if not path.is_file():
        raise PermanentTaskError(
            f"box.upload: local file {path} does not exist or is not a regular "
            "file; it may have been moved before the job ran"
        )
    options = upload_options(ctx, payload)
    with box_errors(ctx, f"box.upload of {path} to {box_path}"):
        client = task_client(ctx)
        result = upload_file(client, path, box_folder, name, options=options)
    ctx.progress(1.0, f"{result.action} {result.box_path}")
    logger.debug("%s: box.upload %s -> %s", ctx.job_id, path, result.action)
    return result.to_dict()


def box_download(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Download a Box file to a local path; a queue task.

    The payload names the file by ``file_id`` or ``box_path`` and the local
    ``destination`` (a file path, an existing folder to put it in, or a
    folder path ending in a separator, created when missing);
    ``overwrite`` (default true) allows replacing a local file with other
    content. The SHA-1 of the download is checked against Box's. Returns
    the action (``downloaded`` or ``skipped``), file id, SHA-1, local path
    and size.
    """
    from sentinel.box._download import download_file, resolve_file

    task = "box.download"
    file_id = _text(payload, "file_id", required=False, task=task)
    box_path = _text(payload, "box_path", required=file_id is None, task=task)
    # Kept as text, because Path drops the trailing separator that names a folder.
    destination = str(_text(payload, "destination", required=True, task=task))
    overwrite = _flag(payload, "overwrite", True, task)
    what = f"box.download of {file_id or box_path} to {destination}"
    with box_errors(ctx, what):
        client = task_client(ctx)
        if file_id is None:
            file_id = resolve_file(client, str(box_path))
        try:
            result = download_file(
                client,
                file_id,
                destination,
                progress=ctx.progress,
                overwrite=overwrite,
            )
        except (FileExistsError, NotADirectoryError) as error:
            raise PermanentTaskError(f"{what}: {error}") from error
    return result.to_dict()


def box_sync(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Mirror a local folder into a Box folder path; a queue task.

    The payload names the local folder ``path`` and the Box ``folder``;
    ``delete`` (default false) removes Box items absent locally, and
    ``on_conflict`` picks what happens to changed files. Returns the counts
    and paths of what was uploaded, versioned, renamed, skipped and deleted.
    """
    from sentinel.box._sync import sync_folder

    task = "box.sync"
    local = Path(str(_text(payload, "path", required=True, task=task)))
    folder = str(_text(payload, "folder", required=True, task=task))
    delete = _flag(payload, "delete", False, task)
    if not local.is_dir():
        raise PermanentTaskError(
            f"box.sync: local folder {local} does not exist or is not a folder"
        )
    options = upload_options(ctx, payload)
    with box_errors(ctx, f"box.sync of {local} to {folder}"):
        client = task_client(ctx)
        report = sync_folder(
            client, local, folder, delete=delete, options=options, progress=ctx.progress
        )
    return report.to_dict()
