"""The ``box.upload`` queue task."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from box_sdk_gen import BoxAPIError, BoxSDKError

from sentinel.box._client import make_client
from sentinel.box._errors import BoxConfigError, BoxPathError
from sentinel.box._paths import join_path
from sentinel.box._upload import upload_file
from sentinel.core import PermanentTaskError, TaskContext

logger = logging.getLogger(__name__)

# Statuses after which the same request can succeed later: timeouts, an etag
# race, rate limits and server errors. Any other rejection is permanent.
RETRYABLE_STATUSES = frozenset({408, 412, 429})


def _text(payload: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        if required:
            raise PermanentTaskError(
                f"box.upload payload has no {key!r}; send {{'path': ..., "
                f"'folder': ...}} with optional 'relative' and 'name'"
            )
        return None
    if not isinstance(value, str):
        raise PermanentTaskError(
            f"box.upload payload {key!r} is {value!r}; expected a string"
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


def box_upload(ctx: TaskContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Upload a local file to a Box folder path; a queue task.

    The payload names the local ``path``, the Box ``folder``, an optional
    ``relative`` path whose parent folders are appended to ``folder``, and an
    optional ``name`` (the local file name by default). Returns the action
    taken (``uploaded``, ``new_version`` or ``skipped``), the Box file id,
    the SHA-1 and the Box path.
    """
    path = Path(str(_text(payload, "path", required=True)))
    folder = str(_text(payload, "folder", required=True))
    name = _text(payload, "name", required=False) or path.name
    try:
        box_folder = target_folder(folder, _text(payload, "relative", required=False))
        box_path = join_path(box_folder, name)
    except BoxPathError as error:
        raise PermanentTaskError(f"box.upload of {path}: {error}") from error
    if not path.is_file():
        raise PermanentTaskError(
            f"box.upload: local file {path} does not exist or is not a regular "
            "file; it may have been moved before the job ran"
        )

    try:
        client = make_client(ctx.config.get("box") or {})
        result = upload_file(client, path, box_folder, name, ctx.progress)
    except (BoxConfigError, BoxPathError) as error:
        raise PermanentTaskError(
            f"box.upload of {path} to {box_path}: {error}"
        ) from error
    except BoxSDKError as error:
        if _is_retryable(error):
            logger.warning(
                "%s: box.upload of %s failed on attempt %d of %d: %s",
                ctx.job_id,
                path,
                ctx.attempt,
                ctx.max_attempts,
                _box_message(error),
            )
            raise
        raise PermanentTaskError(
            f"box.upload of {path} to {box_path} was rejected by Box: "
            f"{_box_message(error)}"
        ) from error
    ctx.progress(1.0, f"{result.action} {result.box_path}")
    logger.debug("%s: box.upload %s -> %s", ctx.job_id, path, result.action)
    return result.to_dict()
