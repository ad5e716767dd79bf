"""One scan of installed distributions per process, cached on disk between runs.

Scanning every installed distribution's entry points costs time in
proportion to what is installed. The result (each plugin's entry point, its
distribution and its parsed declaration file) is cached in a JSON file keyed
by the interpreter and ``sys.path``. The cache holds a fingerprint: the
modification time of every ``sys.path`` folder (installing, removing or
upgrading a distribution adds or removes a ``.dist-info`` folder there) and
of every plugin's declaration file (which an editable install edits in
place). Any difference, a corrupt file or another cache format means a
fresh scan.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sentinel.core._errors import PluginError
from sentinel.core._manifest import (
    Declarations,
    declaration_relpath,
    parse_declarations,
    read_declarations,
)
from sentinel.core._version import CORE_API_VERSION

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "sentinel"
CACHE_DIR_ENV = "SENTINEL_CACHE_DIR"
NO_CACHE_ENV = "SENTINEL_NO_CACHE"
CACHE_FORMAT = 1


@dataclass(slots=True)
class Candidate:
    """One ``sentinel`` entry point of one installed distribution."""

    id: str
    module: str
    distribution: str | None
    version: str | None
    declaration_path: str | None = None
    declaration_mtime: int | None = None
    declarations: dict[str, Any] | None = None
    declaration_error: str | None = None
    # Other distributions that use the same plugin id, found later in id order.
    duplicates: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ScanResult:
    """The candidates of one scan and whether they came from the disk cache."""

    candidates: list[Candidate]
    from_cache: bool
    cache_path: Path | None
    seconds: float


_scans: dict[str, ScanResult] = {}


def cache_dir() -> Path:
    """Return the folder of sentinel's caches, honouring ``$SENTINEL_CACHE_DIR``."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sentinel"


def scan(*, refresh: bool = False) -> ScanResult:
    """Return the installed plugin candidates: once per process, cached on disk."""
    key = _cache_key()
    if not refresh and key in _scans:
        return _scans[key]
    started = time.perf_counter()
    use_cache = os.environ.get(NO_CACHE_ENV, "") in ("", "0")
    path = cache_dir() / f"plugins-{key}.json"
    candidates = _read_cache(path) if use_cache and not refresh else None
    from_cache = candidates is not None
    if candidates is None:
        candidates = _scan_distributions()
        if use_cache:
            _write_cache(path, candidates)
    result = ScanResult(
        candidates,
        from_cache,
        path if use_cache else None,
        time.perf_counter() - started,
    )
    _scans[key] = result
    return result


def _cache_key() -> str:
    text = json.dumps([sys.executable, _watched_path(), CORE_API_VERSION]).encode()
    # A name, not a security boundary: crc32 avoids importing hashlib at start-up.
    return f"{zlib.crc32(text):08x}{len(text):04x}"


def _watched_path() -> list[str]:
    """Return the ``sys.path`` entries whose changes invalidate the cache.

    The working folder (first on the path under ``python -m``) changes
    whenever the user writes a file there, so it is left out: a distribution
    installed right into the working folder is not noticed until another
    path entry changes.
    """
    cwd = os.getcwd()
    return [entry for entry in sys.path if entry and entry != cwd]


def _fingerprint() -> dict[str, int | None]:
    stamps: dict[str, int | None] = {}
    for entry in _watched_path():
        folder = entry
        try:
            stamps[entry] = os.stat(folder).st_mtime_ns
        except OSError:
            stamps[entry] = None
    return stamps


def _read_cache(path: Path) -> list[Candidate] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.debug("plugin cache %s unreadable, rescanning: %s", path, exc)
        return None
    try:
        if data["format"] != CACHE_FORMAT or data["fingerprint"] != _fingerprint():
            return None
        candidates = [Candidate(**record) for record in data["candidates"]]
    except (KeyError, TypeError) as exc:
        logger.debug("plugin cache %s has another layout, rescanning: %s", path, exc)
        return None
    for candidate in candidates:
        if _declaration_changed(candidate):
            return None
    return candidates


def _declaration_changed(candidate: Candidate) -> bool:
    found = locate_declarations(candidate.module)
    if found is None:
        return candidate.declaration_path is not None
    return str(found) != candidate.declaration_path or (
        _mtime(found) != candidate.declaration_mtime
    )


def _write_cache(path: Path, candidates: list[Candidate]) -> None:
    data = {
        "format": CACHE_FORMAT,
        "fingerprint": _fingerprint(),
        "candidates": [asdict(candidate) for candidate in candidates],
    }
    try:
        import tempfile

        path.parent.mkdir(parents=True, exist_ok=True)
        # Write a temporary file and rename it, so a reader never sees half a file.
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=".plugins-", suffix=".tmp", delete=False
        ) as handle:
            json.dump(data, handle)
        os.replace(handle.name, path)
    except OSError as exc:
        logger.debug("plugin cache %s not written: %s", path, exc)


def _scan_distributions() -> list[Candidate]:
    """Read every distribution's ``sentinel`` entry points and declaration files."""
    # Imported here: a start-up that hits the cache never needs it.
    import importlib.metadata

    by_id: dict[str, Candidate] = {}
    seen: set[tuple[str | None, str, str]] = set()
    # entry_points() already yields a distribution found twice on sys.path
    # once; the set also drops an identical entry point seen twice.
    entry_points = sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
        key=lambda ep: (ep.name, ep.dist.name if ep.dist else "", ep.value),
    )
    for ep in entry_points:
        distribution = ep.dist.name if ep.dist else None
        marker = (distribution, ep.name, ep.value)
        if marker in seen:
            continue
        seen.add(marker)
        if ep.name in by_id:
            by_id[ep.name].duplicates.append(distribution or ep.value)
            continue
        by_id[ep.name] = _candidate(
            ep.name, ep.value, distribution, ep.dist.version if ep.dist else None
        )
    return [by_id[plugin_id] for plugin_id in sorted(by_id)]


def _candidate(
    plugin_id: str, module: str, distribution: str | None, version: str | None
) -> Candidate:
    candidate = Candidate(plugin_id, module, distribution, version)
    found = locate_declarations(module)
    if found is None:
        return candidate
    candidate.declaration_path = str(found)
    candidate.declaration_mtime = _mtime(found)
    try:
        candidate.declarations = read_declarations(found)
    except PluginError as exc:
        candidate.declaration_error = str(exc)
    return candidate


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def locate_declarations(module: str) -> Path | None:
    """Find ``module``'s declaration file without importing any of its code."""
    relative = declaration_relpath(module)
    for entry in sys.path:
        candidate = Path(entry or os.getcwd()) / relative
        if candidate.is_file():
            return candidate
    # Editable installs that use an import finder instead of a path entry:
    # find_spec of a top-level name locates it without executing it.
    parent, _, leaf = module.rpartition(".")
    if not parent or "." in parent:
        return None
    import importlib.util

    try:
        spec = importlib.util.find_spec(parent)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / f"{leaf}.toml"
        if candidate.is_file():
            return candidate
    return None


def plugin_declarations(module: str) -> Declarations:
    """Read the declaration file of plugin module ``module`` (such as ``__name__``).

    A plugin's own code uses this to reach its config defaults, so the file
    stays the one place where they are written.
    """
    found = locate_declarations(module)
    if found is None:
        raise PluginError(
            f"plugin module {module!r} has no declaration file "
            f"{declaration_relpath(module)} on sys.path; reinstall its distribution"
        )
    return parse_declarations(read_declarations(found), str(found))
