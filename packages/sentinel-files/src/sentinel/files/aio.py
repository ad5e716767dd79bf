"""Asyncio file operations (read, write, copy, move, hash, load) run in threads."""

from __future__ import annotations

from sentinel.files._aio import (
    copy_file,
    hash_file,
    load_file_async,
    move_file,
    read_bytes,
    write_bytes,
)

__all__ = [
    "copy_file",
    "hash_file",
    "load_file_async",
    "move_file",
    "read_bytes",
    "write_bytes",
]
