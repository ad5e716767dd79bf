"""Idempotent uploads: skip same content, settle name conflicts, chunk big files."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from box_sdk_gen import BoxAPIError, BoxClient
from box_sdk_gen.managers.uploads import (
    UploadFileAttributes,
    UploadFileAttributesParentField,
    UploadFileVersionAttributes,
)
from box_sdk_gen.schemas.upload_part import UploadPart

from sentinel.box._errors import BoxPathError, BoxUploadError
from sentinel.box._paths import (
    cache_for,
    ensure_folder,
    first_conflict,
    item_kind,
    iter_items,
    join_path,
)

logger = logging.getLogger(__name__)

_HASH_CHUNK = 1024 * 1024
# Box takes upload sessions for files of 20,000,000 bytes and more.
CHUNKED_THRESHOLD = 20_000_000
CONFLICT_POLICIES = ("overwrite", "rename", "skip")
_FILE_FIELDS = ["type", "id", "name", "etag", "sha1", "size"]
_NUMBERED = re.compile(r"^(.*) \((\d+)\)$")

Progress = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What an upload did.

    ``action`` is ``uploaded``, ``new_version``, ``renamed`` (uploaded under
    another name because the name was taken) or ``skipped``. ``reason`` is
    why a file was skipped (``same_content`` or ``name_conflict``).
    """

    action: str
    file_id: str
    sha1: str
    box_path: str
    size: int = 0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-serialisable mapping."""
        return asdict(self)


@dataclass(slots=True)
class UploadOptions:
    """Settings of ``upload_file``: conflict policy, chunking and resumption."""

    on_conflict: str = "overwrite"
    chunked_threshold: int = CHUNKED_THRESHOLD
    sessions_dir: Path | None = None
    progress: Progress = field(default=lambda fraction, message: None)

    def __post_init__(self) -> None:
        if self.on_conflict not in CONFLICT_POLICIES:
            raise BoxPathError(
                f"conflict policy {self.on_conflict!r} is unknown; use one of "
                f"{', '.join(CONFLICT_POLICIES)}"
            )


def file_sha1(path: Path) -> str:
    """Compute the SHA-1 hex digest of a local file, reading it in chunks."""
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def upload_file(
    client: BoxClient,
    path: Path,
    folder: str,
    name: str | None = None,
    progress: Progress | None = None,
    *,
    options: UploadOptions | None = None,
) -> UploadResult:
    """Upload ``path`` into the Box folder path ``folder`` as ``name``.

    Missing folders are created. A file of that name with the same SHA-1 is
    left alone; one with other content is handled by ``options.on_conflict``:
    a new version (overwrite), an upload under a free name (rename), or
    nothing (skip). Files of ``options.chunked_threshold`` bytes or more go
    up in parts through an upload session.
    """
    options = options or UploadOptions()
    if progress is not None:
        options.progress = progress
    name = name or path.name
    sha1 = file_sha1(path)
    options.progress(0.1, f"SHA-1 of {path.name} is {sha1}")

    def upload() -> UploadResult:
        folder_id = ensure_folder(client, folder)
        items = {str(item.name).lower(): item for item in iter_items(client, folder_id)}
        options.progress(0.2, f"listed {folder}")
        return upload_to_folder(
            client,
            path,
            folder=folder,
            folder_id=folder_id,
            name=name,
            sha1=sha1,
            items=items,
            options=options,
        )

    try:
        return upload()
    except BoxAPIError as error:
        if error.response_info.status_code != 404:
            raise
        # The cached folder id is stale: someone deleted or moved the folder.
        cache_for(client).invalidate(folder)
        return upload()


def upload_to_folder(
    client: BoxClient,
    path: Path,
    *,
    folder: str,
    folder_id: str,
    name: str,
    sha1: str,
    items: dict[str, Any],
    options: UploadOptions,
) -> UploadResult:
    """Upload into a folder whose items (by lower-case name) are known."""
    box_path = join_path(folder, name)
    existing = items.get(name.lower())
    size = path.stat().st_size
    if existing is None:
        try:
            file_id = _upload_new(
                client, path, folder_id=folder_id, name=name, sha1=sha1, options=options
            )
        except BoxAPIError as error:
            conflict = first_conflict(error.response_info.context_info)
            if error.response_info.code != "item_name_in_use" or conflict is None:
                raise
            # Another worker uploaded the same name after the listing.
            existing = _Conflict(conflict)
        else:
            logger.info("%s: uploaded %s to %s", file_id, path, box_path)
            return UploadResult("uploaded", file_id, sha1, box_path, size)
    return _resolve_conflict(
        client,
        path,
        existing,
        folder=folder,
        folder_id=folder_id,
        name=name,
        sha1=sha1,
        items=items,
        options=options,
    )


class _Conflict:
    """The conflicting item of a 409, shaped like an SDK item."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.type = data.get("type")
        self.id = data.get("id")
        self.name = data.get("name")
        self.sha_1 = data.get("sha1")
        self.etag = data.get("etag")


def _resolve_conflict(
    client: BoxClient,
    path: Path,
    existing: Any,
    *,
    folder: str,
    folder_id: str,
    name: str,
    sha1: str,
    items: dict[str, Any],
    options: UploadOptions,
) -> UploadResult:
    box_path = join_path(folder, str(existing.name or name))
    size = path.stat().st_size
    is_file = item_kind(existing) == "file"
    if is_file and existing.sha_1 == sha1:
        logger.debug("%s: %s unchanged, skipping", existing.id, box_path)
        return UploadResult(
            "skipped", str(existing.id), sha1, box_path, size, "same_content"
        )
    if options.on_conflict == "skip":
        logger.info("%s: %s exists with other content, skipping", existing.id, box_path)
        return UploadResult(
            "skipped", str(existing.id), sha1, box_path, size, "name_conflict"
        )
    if options.on_conflict == "rename":
        free = free_name(name, set(items))
        file_id = _upload_new(
            client, path, folder_id=folder_id, name=free, sha1=sha1, options=options
        )
        logger.info("%s: uploaded %s as %s", file_id, path, join_path(folder, free))
        return UploadResult("renamed", file_id, sha1, join_path(folder, free), size)
    if not is_file:
        raise BoxPathError(
            f"cannot upload {path} to {box_path}: a {item_kind(existing)} of that "
            "name is in the way; move it or use the rename policy"
        )
    try:
        _upload_version(client, path, existing, sha1, options)
    except BoxAPIError as error:
        if error.response_info.status_code != 412:
            raise
        # The file changed between the listing and the upload: read it again
        # and decide once more with its current content and etag.
        current = client.files.get_file_by_id(str(existing.id), fields=_FILE_FIELDS)
        logger.info("%s: %s changed meanwhile (412), retrying", existing.id, box_path)
        if current.sha_1 == sha1:
            return UploadResult(
                "skipped", str(existing.id), sha1, box_path, size, "same_content"
            )
        _upload_version(client, path, current, sha1, options)
    logger.info("%s: uploaded a new version of %s from %s", existing.id, box_path, path)
    return UploadResult("new_version", str(existing.id), sha1, box_path, size)


def free_name(name: str, taken: set[str]) -> str:
    """Return ``name`` numbered like ``report (2).csv`` so it is not in ``taken``.

    ``taken`` contains lower-case names, since Box compares names without case.
    """
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    numbered = _NUMBERED.match(stem)
    base, number = (
        (numbered.group(1), int(numbered.group(2))) if numbered else (stem, 0)
    )
    while True:
        number += 1
        candidate = f"{base} ({number})" + (f".{suffix}" if suffix else "")
        if candidate.lower() not in taken:
            return candidate


class ProgressReader(io.BufferedIOBase):
    """A seekable file reader that reports how far the upload has read."""

    def __init__(self, stream: Any, size: int, progress: Progress, name: str) -> None:
        super().__init__()
        self._stream = stream
        self._size = max(1, size)
        self._progress = progress
        self._name = name
        self._reported = 0.0

    def readable(self) -> bool:
        """Tell that the reader can be read."""
        return True

    def seekable(self) -> bool:
        """Tell that the reader can seek, so a retry can send the body again."""
        return True

    def tell(self) -> int:
        """Return the position in the file."""
        return int(self._stream.tell())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to ``offset``, as a retry does before sending the body again."""
        return int(self._stream.seek(offset, whence))

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes and report the position reached."""
        chunk: bytes = self._stream.read(-1 if size is None else size)
        fraction = 0.2 + 0.7 * min(1.0, self._stream.tell() / self._size)
        # Report each step of 1 % at most, since a report may be a Redis write.
        if chunk and fraction - self._reported >= 0.01:
            self._reported = fraction
            self._progress(fraction, f"sending {self._name}")
        return chunk

    def readinto(self, buffer: Any) -> int:
        """Read into ``buffer``; return the byte count."""
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)


def _upload_new(
    client: BoxClient,
    path: Path,
    *,
    folder_id: str,
    name: str,
    sha1: str,
    options: UploadOptions,
) -> str:
    size = path.stat().st_size
    if size >= options.chunked_threshold:
        uploader = ChunkedUpload(client, path, sha1, options)
        return uploader.upload_new(folder_id, name)
    attributes = UploadFileAttributes(
        name=name,
        parent=UploadFileAttributesParentField(id=folder_id),
        content_modified_at=_modified_at(path),
    )
    with path.open("rb") as raw:
        stream = ProgressReader(raw, size, options.progress, name)
        files = client.uploads.upload_file(attributes, stream, content_md_5=sha1)
    options.progress(0.9, f"uploaded {name}")
    return str((files.entries or [])[0].id)


def _upload_version(
    client: BoxClient, path: Path, existing: Any, sha1: str, options: UploadOptions
) -> None:
    size = path.stat().st_size
    if size >= options.chunked_threshold:
        ChunkedUpload(client, path, sha1, options).upload_version(
            str(existing.id), str(existing.name), existing.etag
        )
        return
    attributes = UploadFileVersionAttributes(
        name=str(existing.name), content_modified_at=_modified_at(path)
    )
    # If-Match makes Box reject the upload when someone changed the file
    # since it was read, instead of silently replacing their version.
    with path.open("rb") as raw:
        stream = ProgressReader(raw, size, options.progress, str(existing.name))
        client.uploads.upload_file_version(
            str(existing.id),
            attributes,
            stream,
            if_match=existing.etag,
            content_md_5=sha1,
        )
    options.progress(0.9, f"uploaded a new version of {existing.name}")


def _b64_sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()


class ChunkedUpload:
    """Upload one file in parts through an upload session, resumably.

    Before uploading, the parts the server already stores are listed and
    skipped; a part whose upload failed after the server stored it (a 500
    or a dropped response, then 409 on the retry) is taken from the listing.
    With ``options.sessions_dir`` set, the session is remembered on disk,
    so an upload interrupted by a crash resumes from its stored parts.
    """

    def __init__(
        self, client: BoxClient, path: Path, sha1: str, options: UploadOptions
    ) -> None:
        self.client = client
        self.path = path
        self.sha1 = sha1
        self.options = options
        self.size = path.stat().st_size
        self.parts_uploaded = 0
        self.parts_reused = 0

    def upload_new(self, folder_id: str, name: str) -> str:
        """Create the file ``name`` in folder ``folder_id``; return its id."""
        target = f"folder-{folder_id}-{name}"
        session_id = self._resumable(target)
        if session_id is None:
            session = self.client.chunked_uploads.create_file_upload_session(
                folder_id, self.size, name
            )
            session_id = self._remember(target, session)
        return self._finish(session_id, target, None)

    def upload_version(self, file_id: str, name: str, etag: str | None) -> str:
        """Upload a new version of file ``file_id``; return its id."""
        target = f"file-{file_id}"
        session_id = self._resumable(target)
        if session_id is None:
            chunked = self.client.chunked_uploads
            session = chunked.create_file_upload_session_for_existing_file(
                file_id, self.size, file_name=name
            )
            session_id = self._remember(target, session)
        return self._finish(session_id, target, etag)

    def _finish(self, session_id: str, target: str, etag: str | None) -> str:
        session = self.client.chunked_uploads.get_file_upload_session_by_id(session_id)
        part_size = int(session.part_size or 0)
        if part_size <= 0:
            raise BoxUploadError(
                f"upload session {session_id} for {self.path} has no part size"
            )
        stored = self.stored_parts(session_id)
        with self.path.open("rb") as stream:
            for offset in range(0, self.size, part_size):
                if offset in stored:
                    self.parts_reused += 1
                    continue
                stream.seek(offset)
                chunk = stream.read(part_size)
                stored[offset] = self._put_part(session_id, offset, chunk)
                self.options.progress(
                    0.2 + 0.7 * min(1.0, (offset + len(chunk)) / self.size),
                    f"uploaded {offset + len(chunk)} of {self.size} bytes",
                )
        parts = [stored[offset] for offset in sorted(stored)]
        digest = "sha=" + base64.b64encode(bytes.fromhex(self.sha1)).decode()
        files = self.client.chunked_uploads.create_file_upload_session_commit(
            session_id, parts, digest, if_match=etag
        )
        self._forget(target)
        entries = (files.entries if files is not None else None) or []
        if not entries:
            raise BoxUploadError(
                f"commit of upload session {session_id} for {self.path} returned "
                "no file; Box may still be assembling it, so retry the upload"
            )
        return str(entries[0].id)

    def stored_parts(self, session_id: str) -> dict[int, UploadPart]:
        """Return the parts the server stores for the session, by offset."""
        found: dict[int, UploadPart] = {}
        offset = 0
        while True:
            page = self.client.chunked_uploads.get_file_upload_session_parts(
                session_id, offset=offset, limit=1000
            )
            entries = page.entries or []
            for part in entries:
                if part.offset is not None:
                    found[int(part.offset)] = part
            offset += len(entries)
            if not entries or offset >= int(page.total_count or 0):
                return found

    def _put_part(self, session_id: str, offset: int, chunk: bytes) -> UploadPart:
        end = offset + len(chunk) - 1
        digest = _b64_sha1(chunk)
        try:
            uploaded = self.client.chunked_uploads.upload_file_part(
                session_id,
                io.BytesIO(chunk),
                f"sha={digest}",
                f"bytes {offset}-{end}/{self.size}",
            )
        except BoxAPIError as error:
            if error.response_info.status_code != 409:
                raise
            # The server stored this part on an attempt whose response was lost.
            part = self.stored_parts(session_id).get(offset)
            expected = hashlib.sha1(chunk, usedforsecurity=False).hexdigest()
            if part is None or not _same_part(part, expected, len(chunk)):
                raise
            logger.info("%s: part at %d already stored, reusing it", session_id, offset)
            self.parts_reused += 1
            return part
        self.parts_uploaded += 1
        if uploaded.part is None:
            raise BoxUploadError(
                f"upload session {session_id} returned no part for bytes "
                f"{offset}-{end} of {self.path}"
            )
        return uploaded.part

    def _record_path(self, target: str) -> Path | None:
        if self.options.sessions_dir is None:
            return None
        digest = hashlib.sha256(
            f"{target}|{self.path.resolve()}|{self.size}|{self.sha1}".encode()
        ).hexdigest()[:32]
        return self.options.sessions_dir / f"{digest}.json"

    def _resumable(self, target: str) -> str | None:
        record = self._record_path(target)
        if record is None or not record.is_file():
            return None
        try:
            session_id = str(json.loads(record.read_text("utf-8"))["session_id"])
            self.client.chunked_uploads.get_file_upload_session_by_id(session_id)
        except (ValueError, KeyError, OSError, BoxAPIError) as error:
            logger.info("%s: cannot resume upload of %s: %s", target, self.path, error)
            record.unlink(missing_ok=True)
            return None
        logger.info("%s: resuming upload session %s", self.path, session_id)
        return session_id

    def _remember(self, target: str, session: Any) -> str:
        session_id = str(session.id)
        record = self._record_path(target)
        if record is not None:
            record.parent.mkdir(parents=True, exist_ok=True)
            temporary = record.with_suffix(".tmp")
            temporary.write_text(
                json.dumps({"session_id": session_id, "path": str(self.path)}),
                "utf-8",
            )
            temporary.replace(record)
        return session_id

    def _forget(self, target: str) -> None:
        record = self._record_path(target)
        if record is not None:
            record.unlink(missing_ok=True)


def _same_part(part: UploadPart, sha1: str, size: int) -> bool:
    if part.size is not None and int(part.size) != size:
        return False
    return part.sha_1 is None or part.sha_1 == sha1
