"""One scan of installed distributions per process, cached on disk between runs.

Scanning every installed distribution's entry points costs time in
proportion to what is installed. The result (each plugin's entry point, its
distribution and its parsed declaration file) is cached in a JSON file keyed
by the interpreter and ``sys.path`` (see :mod:`sentinel.core._cache` for when
the file counts as current).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sentinel.core._cache import (
    CACHE_FORMAT,
    cache_enabled,
    cache_file,
    path_stamps,
    read_cache,
    stamp,
    write_cache,
)
from sentinel.core._cache import cache_dir as _cache_dir
from sentinel.core._errors import PluginError
from sentinel.core._manifest import (
    Declarations,
    declaration_relpath,
    parse_declarations,
    read_declarations,
)
from sentinel.core._names import CACHE_DIR_ENV, NO_CACHE_ENV

logger = logging.getLogger(__name__)

__all__ = [
    "CACHE_DIR_ENV",
    "CACHE_FORMAT",
    "NO_CACHE_ENV",
    "Candidate",
    "ScanResult",
    "cache_dir",
    "locate_declarations",
    "plugin_declarations",
    "save_scan_listing",
    "scan",
]

ENTRY_POINT_GROUP = "sentinel"


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
    # Folders where a declaration file would appear; adding one changes them.
    watched_folders: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ScanResult:
    """The candidates of one scan and whether they came from the disk cache."""

    candidates: list[Candidate]
    from_cache: bool
    cache_path: Path | None
    seconds: float
    # The stamps the cache file was checked or written with.
    stamps: list[list[Any]] = field(default_factory=list)
    # What --help and ``sentinel plugins`` show, as saved in the cache file.
    listing: dict[str, Any] | None = None


_scans: dict[str, ScanResult] = {}


def cache_dir() -> Path:
    """Return the folder of sentinel's caches, honouring ``$SENTINEL_CACHE_DIR``."""
    return Path(_cache_dir())


def scan(*, refresh: bool = False) -> ScanResult:
    """Return the installed plugin candidates: once per process, cached on disk."""
    path = cache_file()
    if not refresh and path in _scans:
        return _scans[path]
    started = time.perf_counter()
    use_cache = cache_enabled()
    data = read_cache(path) if use_cache and not refresh else None
    candidates = _candidates(data) if data is not None else None
    from_cache = candidates is not None
    if candidates is None:
        candidates = _scan_distributions()
        stamps = _stamps(candidates)
        if use_cache and not write_cache(path, _cache_data(candidates, stamps)):
            logger.debug("plugin cache %s not written", path)
    else:
        assert data is not None
        stamps = data["stamps"]
    listing = data.get("listing") if data is not None else None
    result = ScanResult(
        candidates,
        from_cache,
        Path(path) if use_cache else None,
        time.perf_counter() - started,
        stamps,
        listing if isinstance(listing, dict) else None,
    )
    _scans[path] = result
    return result


def save_scan_listing(result: ScanResult, listing: dict[str, Any]) -> None:
    """Store what ``sentinel plugins`` and ``--help`` show next to the candidates.

    Those commands then read one file and import no plugin host code, as
    long as the installed distributions stay the same.
    """
    if result.cache_path is None:
        return
    data = _cache_data(result.candidates, result.stamps)
    data["listing"] = listing
    if write_cache(str(result.cache_path), data):
        result.listing = listing


def _cache_data(candidates: list[Candidate], stamps: list[list[Any]]) -> dict[str, Any]:
    return {
        "stamps": stamps,
        "candidates": [asdict(candidate) for candidate in candidates],
    }


def _candidates(data: dict[str, Any]) -> list[Candidate] | None:
    try:
        return [Candidate(**record) for record in data["candidates"]]
    except (KeyError, TypeError) as exc:
        logger.debug("plugin cache has another layout, rescanning: %s", exc)
        return None


def _stamps(candidates: list[Candidate]) -> list[list[Any]]:
    """Stamp the path, each declaration file and each folder that could get one."""
    stamps = path_stamps()
    for candidate in candidates:
        if candidate.declaration_path is not None:
            stamps.append([candidate.declaration_path, candidate.declaration_mtime])
        for folder in candidate.watched_folders:
            stamps.append([folder, stamp(folder)])
    return stamps


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
        candidate.watched_folders = _declaration_folders(module)
        return candidate
    candidate.declaration_path = str(found)
    candidate.declaration_mtime = _mtime(found)
    try:
        candidate.declarations = read_declarations(found)
    except PluginError as exc:
        candidate.declaration_error = str(exc)
    return candidate


def _mtime(path: Path) -> int | None:
    return stamp(str(path))


def _declaration_folders(module: str) -> list[str]:
    """Return the existing folders where ``module``'s declaration file would go."""
    folder = os.path.dirname(declaration_relpath(module))
    found = [os.path.join(entry or os.getcwd(), folder) for entry in sys.path]
    found += [str(location) for location in _spec_locations(module)]
    return [path for path in dict.fromkeys(found) if os.path.isdir(path)]


def locate_declarations(module: str) -> Path | None:
    """Find ``module``'s declaration file without importing any of its code."""
    relative = declaration_relpath(module)
    for entry in sys.path:
        candidate = Path(entry or os.getcwd()) / relative
        if candidate.is_file():
            return candidate
    leaf = module.rpartition(".")[2]
    for location in _spec_locations(module):
        candidate = location / f"{leaf}.toml"
        if candidate.is_file():
            return candidate
    return None


def _spec_locations(module: str) -> list[Path]:
    """Return the folders of ``module``'s package that an import finder knows.

    Editable installs may use an import finder instead of a path entry;
    find_spec of a top-level name locates it without executing it.
    """
    parent = module.rpartition(".")[0]
    if not parent or "." in parent:
        return []
    import importlib.util

    try:
        spec = importlib.util.find_spec(parent)
    except (ImportError, ValueError):
        return []
    return [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []


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
