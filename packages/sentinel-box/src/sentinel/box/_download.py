"""Download Box files to disk, verifying each against the SHA-1 Box reports."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from box_sdk_gen import BoxClient

from sentinel.box._errors import BoxIntegrityError, BoxItemNotFoundError
from sentinel.box._paths import find_file, join_path, resolve_folder, split_path

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024

Progress = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """The outcome of a download: ``downloaded``, or ``skipped`` (copy identical)."""

    action: str
    file_id: str
    sha1: str
    path: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-serialisable mapping."""
        return asdict(self)


def resolve_file(client: BoxClient, box_path: str) -> str:
    """Return the id of the file at ``box_path``, such as ``/Sentinel/a.csv``."""
    names = split_path(box_path)
    if not names:
        raise BoxItemNotFoundError("the Box path '/' is a folder, not a file")
    folder_id = resolve_folder(client, join_path(*names[:-1]))
    item = find_file(client, folder_id, names[-1])
    if item is None:
        raise BoxItemNotFoundError(
            f"Box file {box_path!r} does not exist; list its folder with "
            "'sentinel box ls' to check the name"
        )
    return str(item.id)


def _local_sha1(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _names_folder(destination: str | os.PathLike[str]) -> bool:
    """Tell whether ``destination`` ends in a path separator, as ``dl/`` does."""
    text = os.fspath(destination)
    separators = tuple(sep for sep in (os.sep, os.altsep) if sep)
    return text.endswith(separators)


def _target(destination: str | os.PathLike[str], name: str) -> Path:
    """Return the local path that receives the Box file called ``name``.

    A destination that ends in a path separator or is an existing folder
    receives the file under its Box name, as with cp and rsync.
    :func:`download_file` creates a missing folder before writing.
    """
    path = Path(destination)
    if _names_folder(destination):
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(
                f"destination {os.fspath(destination)!r} ends in a path separator, "
                f"so it names a folder, but {path} is a file; drop the trailing "
                "separator to replace the file"
            )
        return path / name
    return path / name if path.is_dir() else path


def _no_progress(fraction: float, message: str) -> None:
    del fraction, message


def download_file(
    client: BoxClient,
    file_id: str,
    destination: str | os.PathLike[str],
    *,
    progress: Progress = _no_progress,
    overwrite: bool = True,
) -> DownloadResult:
    """Download file ``file_id`` to ``destination`` and check its SHA-1.

    ``destination`` may be a folder, which then receives the file under its
    Box name. A destination that ends in a path separator, such as ``dl/``,
    always names a folder and is created when missing; NotADirectoryError is
    raised if that path is a file. The content is written to a temporary
    file beside the target and moved into place only after its SHA-1 matches
    the one Box reports, so a torn or corrupted transfer never replaces a
    good file. A local file with the same SHA-1 is left alone.
    """
    info = client.files.get_file_by_id(file_id, fields=["name", "sha1", "size"])
    target = _target(destination, str(info.name))
    expected = str(info.sha_1 or "")
    size = int(info.size or 0)
    if expected and _local_sha1(target) == expected:
        return DownloadResult("skipped", file_id, expected, str(target), size)
    if target.exists() and not overwrite:
        raise FileExistsError(
            f"{target} exists with other content; pass overwrite to replace it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    digest = hashlib.sha1(usedforsecurity=False)
    received = 0
    try:
        stream = client.downloads.download_file(file_id)
        with partial.open("wb") as output:
            while stream is not None and (chunk := stream.read(_CHUNK)):
                output.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                progress(received / size if size else 1.0, f"{received} bytes")
        actual = digest.hexdigest()
        if expected and actual != expected:
            raise BoxIntegrityError(
                f"download of Box file {file_id} to {target} has SHA-1 {actual} "
                f"but Box reports {expected} ({received} of {size} bytes); the "
                "transfer was corrupted, download it again"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    logger.info("%s: downloaded %d bytes to %s", file_id, received, target)
    return DownloadResult("downloaded", file_id, actual, str(target), received)
