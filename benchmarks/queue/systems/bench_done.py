"""Count finished benchmark jobs in files, so that counting sends nothing to Redis."""

from __future__ import annotations

import os

DONE_DIR_ENV = "QUEUE_BENCH_DONE_DIR"
URL_ENV = "QUEUE_BENCH_URL"
CONCURRENCY_ENV = "QUEUE_BENCH_CONCURRENCY"
SLEEP_SECONDS = 0.001

# One file descriptor per process id: a worker that forks its children
# must not share the parent's file, or the harness could not tell them apart.
_files: dict[int, int] = {}


def url() -> str:
    """Return the Redis URL that the harness passes to producers and workers."""
    return os.environ[URL_ENV]


def requested_concurrency() -> int | None:
    """Return the jobs at a time per worker process that --concurrency requested."""
    value = os.environ.get(CONCURRENCY_ENV)
    return int(value) if value else None


def record() -> None:
    """Append one byte to this process's file in the done folder."""
    pid = os.getpid()
    fd = _files.get(pid)
    if fd is None:
        path = os.path.join(os.environ[DONE_DIR_ENV], str(pid))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _files[pid] = fd
    os.write(fd, b".")
