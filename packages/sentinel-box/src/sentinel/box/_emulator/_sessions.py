"""Chunked upload sessions of the Box emulator: parts, digests and commits."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import math
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sentinel.box._emulator._config import EmulatorConfig
from sentinel.box._emulator._store import EmulatorStore, Item, check_etag, check_name
from sentinel.box._errors import EmulatorApiError

logger = logging.getLogger(__name__)

# NOTE: the status codes follow Box's reference (409 overlap, 412 digest,
# 416 range), but the error code strings such as "range_overlap" are the
# emulator's own; Box's may differ.
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_COPY_CHUNK = 1024 * 1024


@dataclass(slots=True)
class Part:
    """One stored part of an upload session."""

    part_id: str
    offset: int
    size: int
    sha1: str
    sha512: str
    path: Path

    def shape(self) -> dict[str, Any]:
        """Return the part as Box lists it."""
        return {
            "part_id": self.part_id,
            "offset": self.offset,
            "size": self.size,
            "sha1": self.sha1,
        }


@dataclass(slots=True)
class UploadSession:
    """A chunked upload in progress, for a new file or a new version."""

    id: str
    file_name: str
    file_size: int
    part_size: int
    expires_at: float
    folder_id: str | None = None
    file_id: str | None = None
    pending_commits: int = 0
    parts: dict[int, Part] = field(default_factory=dict)
    directory: Path = Path()

    @property
    def total_parts(self) -> int:
        """Number of parts the file splits into."""
        return max(1, math.ceil(self.file_size / self.part_size))

    def expected_size(self, offset: int) -> int:
        """Return the size the part at ``offset`` must have."""
        return min(self.part_size, self.file_size - offset)


def _digest(header: str | None, what: str) -> tuple[str, str]:
    """Split an RFC 3230 Digest header into algorithm and hex digest."""
    if not header:
        raise EmulatorApiError(
            400,
            "missing_digest",
            f"The Digest header is missing; send the {what}'s SHA-1 as "
            "'Digest: sha=BASE64'",
        )
    algorithm, _, value = header.strip().partition("=")
    algorithm = algorithm.lower()
    if algorithm not in {"sha", "sha-512"} or not value:
        raise EmulatorApiError(
            400,
            "invalid_digest",
            f"Unsupported Digest header {header!r}; use 'sha=BASE64' or "
            "'sha-512=BASE64'",
        )
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as error:
        raise EmulatorApiError(
            400, "invalid_digest", f"The Digest value {value!r} is not base64"
        ) from error
    return algorithm, raw.hex()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


class SessionRegistry:
    """The upload sessions in progress; thread-safe.

    Parts are stored as files under the store's metadata folder until the
    commit assembles them into the file. Sessions live in memory, so a
    restarted emulator forgets them, as an expired session would be.
    """

    def __init__(self, store: EmulatorStore, config: EmulatorConfig) -> None:
        self.store = store
        # Read on each new session, so a test may change the part size or
        # the number of 202 responses while the emulator runs.
        self.config = config
        self._sessions: dict[str, UploadSession] = {}
        self._lock = threading.RLock()
        self._root = store.meta_dir / "sessions"
        shutil.rmtree(self._root, ignore_errors=True)
        self._root.mkdir()

    def create(
        self,
        file_size: object,
        file_name: object,
        *,
        folder_id: str | None = None,
        file_id: str | None = None,
    ) -> UploadSession:
        """Open a session for a new file in a folder, or a new version of a file."""
        size = self._checked_size(file_size)
        if file_id is not None:
            item = self.store.get(file_id, "file")
            name = (
                item.name
                if file_name is None
                else check_name(file_name, str(item.parent_id))
            )
            if name != item.name:
                self._check_free(str(item.parent_id), name, item.id)
        else:
            folder = self.store.get(str(folder_id), "folder")
            name = check_name(file_name, folder.id)
            self._check_free(folder.id, name, "")
        session = UploadSession(
            id=secrets.token_hex(16).upper(),
            file_name=name,
            file_size=size,
            part_size=self.config.part_size,
            expires_at=time.time() + self.config.session_lifetime,
            folder_id=folder_id,
            file_id=file_id,
            pending_commits=self.config.commit_processing,
        )
        session.directory = self._root / session.id
        session.directory.mkdir()
        with self._lock:
            self._sessions[session.id] = session
        logger.info(
            "%s: upload session for %r, %d bytes in %d parts",
            session.id,
            name,
            size,
            session.total_parts,
        )
        return session

    def get(self, session_id: str) -> UploadSession:
        """Return a session, raising Box's 404 when it is unknown or expired."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires_at < time.time():
                self._discard(session)
                session = None
        if session is None:
            raise EmulatorApiError(
                404,
                "not_found",
                f"Upload session {session_id!r} is not found; it was committed, "
                "aborted or has expired",
            )
        return session

    def shape(self, session: UploadSession, base_url: str) -> dict[str, Any]:
        """Return a session as Box does, with its endpoint URLs."""
        url = f"{base_url}/files/upload_sessions/{session.id}"
        return {
            "id": session.id,
            "type": "upload_session",
            "session_expires_at": _iso(session.expires_at),
            "part_size": session.part_size,
            "total_parts": session.total_parts,
            "num_parts_processed": len(session.parts),
            "session_endpoints": {
                "upload_part": url,
                "commit": f"{url}/commit",
                "abort": url,
                "list_parts": f"{url}/parts",
                "status": url,
                "log_event": f"{url}/log",
                "plan": f"{url}/plan",
            },
        }

    def check_range(
        self, session: UploadSession, header: str | None
    ) -> tuple[int, int]:
        """Validate a Content-Range header; return the part's offset and size."""
        match = _RANGE.match((header or "").strip())
        if match is None:
            raise EmulatorApiError(
                416,
                "requested_range_not_satisfiable",
                f"Content-Range {header!r} is invalid; send 'bytes START-END/TOTAL'",
            )
        start, end, total = (int(group) for group in match.groups())
        if total != session.file_size or start % session.part_size or start >= total:
            raise EmulatorApiError(
                416,
                "requested_range_not_satisfiable",
                f"Content-Range {header!r} does not fit the session: the total is "
                f"{session.file_size} bytes and parts start at multiples of "
                f"{session.part_size}",
            )
        size = session.expected_size(start)
        if end != start + size - 1:
            raise EmulatorApiError(
                416,
                "requested_range_not_satisfiable",
                f"Content-Range {header!r} must end at byte {start + size - 1}: "
                f"parts are {session.part_size} bytes, the last one may be shorter",
            )
        with self._lock:
            existing = session.parts.get(start)
        if existing is not None:
            raise EmulatorApiError(
                409,
                "range_overlap",
                f"Bytes {start}-{end} overlap part {existing.part_id}, which is "
                "already uploaded; list the parts to see what is stored",
            )
        return start, size

    def new_part_path(self, session: UploadSession) -> Path:
        """Return a fresh path for a part being received."""
        return session.directory / f"incoming-{secrets.token_hex(8)}"

    def add_part(
        self,
        session: UploadSession,
        offset: int,
        size: int,
        received: Path,
        digest_header: str | None,
    ) -> Part:
        """Check a received part against its range and digest, and keep it."""
        actual = received.stat().st_size
        try:
            algorithm, expected = _digest(digest_header, "part")
            if actual != size:
                raise EmulatorApiError(
                    416,
                    "requested_range_not_satisfiable",
                    f"The body has {actual} bytes but Content-Range names {size}",
                )
            sha1, sha512 = _hashes(received)
            if expected != (sha1 if algorithm == "sha" else sha512):
                raise EmulatorApiError(
                    412,
                    "precondition_failed",
                    "The Digest header does not match the part's content",
                )
        except EmulatorApiError:
            received.unlink(missing_ok=True)
            raise
        return self._keep(session, offset, size, received, sha1=sha1, sha512=sha512)

    def list_parts(self, session: UploadSession) -> list[Part]:
        """Return the stored parts in offset order."""
        with self._lock:
            return [session.parts[offset] for offset in sorted(session.parts)]

    def plan(
        self, session: UploadSession, requested: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Sort planned parts into ones the server has (hits) and misses."""
        hits, misses = [], []
        for entry in requested:
            try:
                offset, size = int(entry["offset"]), int(entry["size"])
                sha512 = str(entry["sha512"]).lower()
            except (KeyError, TypeError, ValueError):
                raise EmulatorApiError(
                    400,
                    "bad_request",
                    "Each planned part needs offset, size and sha512",
                ) from None
            part = self._find_part(session, offset, size, sha512)
            plan = {"offset": offset, "size": size, "sha512": sha512}
            if part is None:
                misses.append(plan)
            else:
                hits.append({**plan, "part_id": part.part_id})
        return hits, misses

    def commit(
        self,
        session: UploadSession,
        parts: object,
        digest_header: str | None,
        *,
        if_match: str | None,
        content_times: tuple[str | None, str | None],
    ) -> Item | None:
        """Assemble the parts into the file; None while Box would still process."""
        _algorithm, expected = _digest(digest_header, "file")
        ordered = self._committed_parts(session, parts)
        with self._lock:
            if session.pending_commits > 0:
                session.pending_commits -= 1
                return None
        if session.file_id is not None:
            check_etag(self.store.get(session.file_id, "file"), if_match)
        upload, sha1 = self._assemble(ordered)
        try:
            if expected != sha1:
                raise EmulatorApiError(
                    422,
                    "bad_digest",
                    "The Digest header does not match the SHA-1 of the whole "
                    f"file, which is {sha1}",
                )
            item = self._store_file(session, upload, sha1, if_match, content_times)
        finally:
            upload.unlink(missing_ok=True)
        with self._lock:
            self._discard(session)
        logger.info("%s: committed as file %s", session.id, item.id)
        return item

    def abort(self, session: UploadSession) -> None:
        """Drop a session and its parts."""
        with self._lock:
            self._discard(session)
        logger.info("%s: upload session aborted", session.id)

    # -- internals ---------------------------------------------------------

    def _checked_size(self, file_size: object) -> int:
        if not isinstance(file_size, int) or isinstance(file_size, bool):
            raise EmulatorApiError(
                400, "bad_request", "Missing 'file_size'; send the size in bytes"
            )
        minimum = self.config.min_chunked_size
        if file_size < minimum:
            raise EmulatorApiError(
                400,
                "file_size_too_small",
                f"A chunked upload needs at least {minimum} bytes, got "
                f"{file_size}; upload smaller files in one request",
            )
        return file_size

    def _check_free(self, folder_id: str, name: str, allow_id: str) -> None:
        existing = self.store.find_child(folder_id, name)
        if existing is not None and existing.id != allow_id:
            raise EmulatorApiError(
                409,
                "item_name_in_use",
                "Item with the same name already exists",
                {"conflicts": existing},
            )

    def _keep(
        self,
        session: UploadSession,
        offset: int,
        size: int,
        received: Path,
        *,
        sha1: str,
        sha512: str,
    ) -> Part:
        part = Part(secrets.token_hex(4).upper(), offset, size, sha1, sha512, received)
        with self._lock:
            if offset in session.parts or session.id not in self._sessions:
                received.unlink(missing_ok=True)
                raise EmulatorApiError(
                    409,
                    "range_overlap",
                    f"A part at offset {offset} was stored meanwhile; list the parts",
                )
            final = session.directory / f"part-{offset}"
            received.rename(final)
            part.path = final
            session.parts[offset] = part
        return part

    def _find_part(
        self, session: UploadSession, offset: int, size: int, sha512: str
    ) -> Part | None:
        with self._lock:
            part = session.parts.get(offset)
        if part is not None:
            return part if (part.size, part.sha512) == (size, sha512) else None
        if session.file_id is None:
            return None
        # A new version may share ranges with the current content: reuse them.
        current = self.store.content_path(session.file_id)
        copy = self.new_part_path(session)
        with current.open("rb") as source, copy.open("wb") as target:
            source.seek(offset)
            target.write(source.read(size))
        if copy.stat().st_size != size or _hashes(copy)[1] != sha512:
            copy.unlink(missing_ok=True)
            return None
        sha1 = _hashes(copy)[0]
        return self._keep(session, offset, size, copy, sha1=sha1, sha512=sha512)

    def _committed_parts(self, session: UploadSession, parts: object) -> list[Part]:
        if not isinstance(parts, list) or not parts:
            raise EmulatorApiError(
                400, "bad_request", "Send 'parts': the list of uploaded parts"
            )
        ordered: list[Part] = []
        expected_offset = 0
        with self._lock:
            for entry in sorted(parts, key=_offset_of):
                part = session.parts.get(_offset_of(entry))
                if (
                    not isinstance(entry, dict)
                    or part is None
                    or (
                        entry.get("part_id") != part.part_id
                        or entry.get("size") != part.size
                    )
                ):
                    raise EmulatorApiError(
                        400,
                        "bad_request",
                        f"Part {entry!r} was not uploaded to this session; list "
                        "the parts and send what the server stored",
                    )
                if part.offset != expected_offset:
                    break
                ordered.append(part)
                expected_offset += part.size
        if expected_offset != session.file_size:
            raise EmulatorApiError(
                400,
                "bad_request",
                f"The parts cover {expected_offset} of {session.file_size} bytes; "
                "upload the missing parts before committing",
            )
        return ordered

    def _assemble(self, parts: list[Part]) -> tuple[Path, str]:
        upload = self.store.temp_upload()
        digest = hashlib.sha1(usedforsecurity=False)
        with upload.open("wb") as target:
            for part in parts:
                with part.path.open("rb") as source:
                    while chunk := source.read(_COPY_CHUNK):
                        digest.update(chunk)
                        target.write(chunk)
        return upload, digest.hexdigest()

    def _store_file(
        self,
        session: UploadSession,
        upload: Path,
        sha1: str,
        if_match: str | None,
        content_times: tuple[str | None, str | None],
    ) -> Item:
        if session.file_id is not None:
            return self.store.add_version(
                session.file_id,
                upload,
                sha1,
                session.file_size,
                new_name=session.file_name,
                if_match=if_match,
                content_modified_at=content_times[1],
            )
        return self.store.add_file(
            str(session.folder_id),
            session.file_name,
            upload,
            sha1=sha1,
            size=session.file_size,
            content_times=content_times,
        )

    def _discard(self, session: UploadSession) -> None:
        self._sessions.pop(session.id, None)
        shutil.rmtree(session.directory, ignore_errors=True)


def _offset_of(entry: object) -> int:
    if isinstance(entry, dict) and isinstance(entry.get("offset"), int):
        return int(entry["offset"])
    raise EmulatorApiError(
        400, "bad_request", f"Part {entry!r} has no integer 'offset'"
    )


def _hashes(path: Path) -> tuple[str, str]:
    sha1 = hashlib.sha1(usedforsecurity=False)
    sha512 = hashlib.sha512()
    with path.open("rb") as stream:
        while chunk := stream.read(_COPY_CHUNK):
            sha1.update(chunk)
            sha512.update(chunk)
    return sha1.hexdigest(), sha512.hexdigest()
