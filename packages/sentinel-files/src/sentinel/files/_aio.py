"""File operations for asyncio code that run in threads, off the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path

from sentinel.files._base import DataFile
from sentinel.files._formats import load_file

HASH_CHUNK = 1 << 20


async def read_bytes(path: str | Path) -> bytes:
    """Read the whole file ``path`` in a worker thread."""
    return await asyncio.to_thread(Path(path).read_bytes)


async def write_bytes(path: str | Path, data: bytes) -> int:
    """Write ``data`` to ``path`` in a worker thread; return the bytes written."""
    return await asyncio.to_thread(Path(path).write_bytes, data)


async def copy_file(source: str | Path, target: str | Path) -> Path:
    """Copy ``source`` to ``target`` with its metadata, in a worker thread."""
    copied = await asyncio.to_thread(shutil.copy2, str(source), str(target))
    return Path(copied)


async def move_file(source: str | Path, target: str | Path) -> Path:
    """Move ``source`` to ``target``, across file systems too, in a worker thread."""
    moved = await asyncio.to_thread(shutil.move, str(source), str(target))
    return Path(moved)


async def hash_file(path: str | Path, algorithm: str = "sha1") -> str:
    """Return the hex digest of ``path`` (SHA-1 by default, as Box reports it)."""
    return await asyncio.to_thread(_hash, Path(path), algorithm)


async def load_file_async(path: str | Path) -> DataFile:
    """Detect, load and validate ``path`` in a worker thread.

    Validation runs in the thread too, so reading the summary afterwards
    does not block the event loop.
    """
    return await asyncio.to_thread(_load_validated, path)


def _load_validated(path: str | Path) -> DataFile:
    return load_file(path).validate()


def _hash(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
