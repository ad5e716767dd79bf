"""The plugin cache file: where it lives, whether it is current, reading and writing.

This module imports only ``os``, ``sys`` and ``json``, because ``sentinel
--help`` and ``sentinel plugins`` read the cache before anything else and
should cost little more than importing click.

The file is one JSON object. ``stamps`` pairs paths with their modification
times: every ``sys.path`` folder (installing, removing or upgrading a
distribution adds or removes a ``.dist-info`` folder there) and every plugin's
declaration file, or the folder where one would appear (an editable install
edits those in place). Any difference, a corrupt file or another ``format``
makes the file stale, and the caller scans again.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from sentinel.core._names import CACHE_DIR_ENV, NO_CACHE_ENV
from sentinel.core._version import CORE_API_VERSION

# Raised whenever the layout of the file or of what it contains changes.
CACHE_FORMAT = 2


def cache_dir() -> str:
    """Return the folder of sentinel's caches, honouring ``$SENTINEL_CACHE_DIR``."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "sentinel")


def cache_enabled() -> bool:
    """Tell whether ``$SENTINEL_NO_CACHE`` leaves the disk cache switched on."""
    return os.environ.get(NO_CACHE_ENV, "") in ("", "0")


def watched_path() -> list[str]:
    """Return the ``sys.path`` entries whose changes make the cache stale.

    The working folder (first on the path under ``python -m``) changes
    whenever the user writes a file there, so it is left out: a distribution
    installed right into the working folder is not noticed until another
    path entry changes.
    """
    cwd = os.getcwd()
    return [entry for entry in sys.path if entry and entry != cwd]


def cache_file() -> str:
    """Return the cache file of this interpreter, ``sys.path`` and core API."""
    text = json.dumps([sys.executable, watched_path(), CORE_API_VERSION])
    return os.path.join(cache_dir(), f"plugins-{_checksum(text)}.json")


def _checksum(text: str) -> str:
    # FNV-1a: a file name, not a security boundary, and it saves importing
    # zlib or hashlib on the fast path.
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}{len(text):04x}"


def stamp(path: str) -> int | None:
    """Return the modification time of ``path`` in nanoseconds, None if absent."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def path_stamps() -> list[list[Any]]:
    """Return ``[path, mtime]`` for every watched ``sys.path`` entry."""
    return [[entry, stamp(entry)] for entry in watched_path()]


def read_cache(path: str) -> dict[str, Any] | None:
    """Return the cache file's data, or None when it is absent, corrupt or stale."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    try:
        if data["format"] != CACHE_FORMAT or data["path"] != watched_path():
            return None
        for entry, expected in data["stamps"]:
            if stamp(entry) != expected:
                return None
    except (KeyError, TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_cache(path: str, data: dict[str, Any]) -> bool:
    """Write ``data`` atomically, with the format and path; False when it fails."""
    record = {"format": CACHE_FORMAT, "path": watched_path(), **data}
    folder = os.path.dirname(path)
    temporary = os.path.join(folder, f".plugins-{os.getpid()}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        # Write a temporary file and rename it, so a reader never sees half a file.
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(temporary, path)
    except OSError:
        if os.path.exists(temporary):
            os.remove(temporary)
        return False
    return True
