"""Idempotent uploads: skip identical content, add a version when it changed."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from box_sdk_gen import BoxAPIError, BoxClient
from box_sdk_gen.managers.uploads import (
    UploadFileAttributes,
    UploadFileAttributesParentField,
    UploadFileVersionAttributes,
)

from sentinel.box._paths import ensure_folder, find_file, first_conflict, join_path

logger = logging.getLogger(__name__)

_HASH_CHUNK = 1024 * 1024

Progress = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What an upload did: ``uploaded``, ``new_version`` or ``skipped``."""

    action: str
    file_id: str
    sha1: str
    box_path: str

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-serialisable mapping."""
        return asdict(self)


def file_sha1(path: Path) -> str:
    """Compute the SHA-1 hex digest of a local file, reading it in chunks."""
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _no_progress(fraction: float, message: str) -> None:
    del fraction, message


def upload_file(
    client: BoxClient,
    path: Path,
    folder: str,
    name: str | None = None,
    progress: Progress = _no_progress,
) -> UploadResult:
    """Upload ``path`` into the Box folder path ``folder`` as ``name``.

    Missing folders are created. A file of that name with the same SHA-1 is
    left alone; one with other content gets a new version.
    """
    name = name or path.name
    box_path = join_path(folder, name)
    sha1 = file_sha1(path)
    progress(0.2, f"SHA-1 of {path.name} is {sha1}")

    folder_id = ensure_folder(client, folder)
    existing = find_file(client, folder_id, name)
    progress(0.4, f"resolved {box_path}")
    if existing is not None and existing.sha_1 == sha1:
        logger.debug("%s: %s unchanged, skipping", existing.id, box_path)
        return UploadResult("skipped", str(existing.id), sha1, box_path)
    if existing is not None:
        return _upload_version(client, path, existing, sha1=sha1, box_path=box_path)

    try:
        file_id = _upload_new(client, path, folder_id, name, sha1)
    except BoxAPIError as error:
        conflict = first_conflict(error.response_info.context_info)
        if error.response_info.code != "item_name_in_use" or conflict is None:
            raise
        if conflict.get("type") != "file":
            raise
        # Another worker uploaded the same name after the lookup above.
        if conflict.get("sha1") == sha1:
            return UploadResult("skipped", str(conflict["id"]), sha1, box_path)
        existing = client.files.get_file_by_id(str(conflict["id"]))
        return _upload_version(client, path, existing, sha1=sha1, box_path=box_path)
    logger.info("%s: uploaded %s to %s", file_id, path, box_path)
    return UploadResult("uploaded", file_id, sha1, box_path)


def _modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)


def _upload_new(
    client: BoxClient, path: Path, folder_id: str, name: str, sha1: str
) -> str:
    attributes = UploadFileAttributes(
        name=name,
        parent=UploadFileAttributesParentField(id=folder_id),
        content_modified_at=_modified_at(path),
    )
    with path.open("rb") as stream:
        files = client.uploads.upload_file(attributes, stream, content_md_5=sha1)
    return str((files.entries or [])[0].id)


def _upload_version(
    client: BoxClient, path: Path, existing: Any, *, sha1: str, box_path: str
) -> UploadResult:
    name = str(existing.name)
    attributes = UploadFileVersionAttributes(
        name=name, content_modified_at=_modified_at(path)
    )
    # If-Match makes Box reject the upload when someone changed the file
    # since it was read, instead of silently replacing their version.
    with path.open("rb") as stream:
        client.uploads.upload_file_version(
            str(existing.id),
            attributes,
            stream,
            if_match=existing.etag,
            content_md_5=sha1,
        )
    logger.info("%s: uploaded a new version of %s from %s", existing.id, box_path, path)
    return UploadResult("new_version", str(existing.id), sha1, box_path)
