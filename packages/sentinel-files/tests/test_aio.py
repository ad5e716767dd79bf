"""Tests of the asyncio file operations: results and a free event loop."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from sentinel.files import aio

SIZE = 32 * 1024 * 1024


async def run_beside_ticker(operation: Awaitable[Any]) -> tuple[Any, int]:
    """Run ``operation`` while a coroutine counts its turns on the loop."""
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    ticks = 0
    try:
        result = await operation
    finally:
        done.set()
        await task
    return result, ticks


def test_aio_hash_leaves_loop_running(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * (SIZE // 256)
    path.write_bytes(data)
    digest, ticks = asyncio.run(run_beside_ticker(aio.hash_file(path)))
    assert digest == hashlib.sha1(data).hexdigest()
    # A blocking hash would let the ticker run at most once.
    assert ticks > 1


def test_aio_read_write_copy_move(tmp_path: Path) -> None:
    async def scenario() -> tuple[Any, ...]:
        written = await aio.write_bytes(tmp_path / "a.csv", b"id\n1\n")
        copied = await aio.copy_file(tmp_path / "a.csv", tmp_path / "b.csv")
        moved = await aio.move_file(copied, tmp_path / "c.csv")
        data, ticks = await run_beside_ticker(aio.read_bytes(moved))
        loaded = await aio.load_file_async(moved)
        return written, moved, data, ticks, loaded

    written, moved, data, ticks, loaded = asyncio.run(scenario())
    assert written == 5
    assert moved == tmp_path / "c.csv"
    assert not (tmp_path / "b.csv").exists()
    assert data == b"id\n1\n"
    assert ticks >= 1
    assert loaded.summary()["rows"] == 1
