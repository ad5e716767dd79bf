"""The watcher's record of delivered files, kept in a JSON file across restarts."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

# Size in bytes, modification time in nanoseconds, inode number.
Version = tuple[int, int, int]
STATE_FORMAT = 1


class DeliveredState:
    """The version of every file whose handler finished, by path.

    With a ``path``, the record is loaded at start and saved atomically
    (written to a temporary file, then renamed over the old one), so a
    restart neither reports a delivered file again nor misses a new one.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._delivered: dict[str, Version] = {}
        self._lock = threading.Lock()
        self._dirty = False

    def load(self) -> None:
        """Read the saved record; a missing or unreadable file starts empty."""
        if self.path is None or not self.path.is_file():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            delivered = {
                str(path): (int(size), int(mtime), int(inode))
                for path, (size, mtime, inode) in data["delivered"].items()
            }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning(
                "%r: watcher state unreadable, starting empty: %s", str(self.path), exc
            )
            return
        with self._lock:
            self._delivered = delivered

    def save(self) -> None:
        """Write the record if it changed since the last save."""
        if self.path is None:
            return
        with self._lock:
            if not self._dirty:
                return
            data = {"format": STATE_FORMAT, "delivered": dict(self._delivered)}
            self._dirty = False
        try:
            _write_atomically(self.path, json.dumps(data, separators=(",", ":")))
        except OSError as exc:
            logger.error("%r: cannot save the watcher state: %s", str(self.path), exc)
            with self._lock:
                self._dirty = True

    def deliver(self, path: Path, version: Version) -> None:
        """Record that ``path`` in ``version`` reached its handler."""
        with self._lock:
            self._delivered[str(path)] = version
            self._dirty = True

    def delivered(self, path: Path) -> Version | None:
        """Return the delivered version of ``path``, if any."""
        with self._lock:
            return self._delivered.get(str(path))

    def forget(self, path: Path) -> None:
        """Drop ``path`` and every path below it."""
        prefix = str(path) + os.sep
        with self._lock:
            gone = [
                p for p in self._delivered if p == str(path) or p.startswith(prefix)
            ]
            for known in gone:
                del self._delivered[known]
            self._dirty = self._dirty or bool(gone)

    def forget_missing(self, folder: Path, present: set[Path]) -> None:
        """Drop the paths under ``folder`` that a scan did not find."""
        prefix = str(folder) + os.sep
        names = {str(path) for path in present}
        with self._lock:
            gone = [
                p for p in self._delivered if p.startswith(prefix) and p not in names
            ]
            for known in gone:
                del self._delivered[known]
            self._dirty = self._dirty or bool(gone)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=path.name, suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
