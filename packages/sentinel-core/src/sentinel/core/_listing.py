"""The saved plugin listing that lets ``--help`` and ``sentinel plugins`` start fast.

Loading the plugin host and the config costs several times more than
importing click. What ``sentinel --help`` and ``sentinel plugins`` print
depends only on the installed plugins' declarations when nothing selects
plugins: no ``SENTINEL_*`` variable, no config file, no CLI option. In that
case the host's result (plugin records, conflicts, command help and the
warnings loading printed) is saved in the plugin cache file, and later
processes read it with one ``json.load`` while the installed distributions
stay the same. Any selection, or a plugin that had to be imported to learn
what it provides, takes the full path instead.

Only ``os``, ``sys`` and the cache module are imported at module level.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sentinel.core._cache import cache_enabled, cache_file, read_cache
from sentinel.core._names import CACHE_DIR_ENV

if TYPE_CHECKING:
    from sentinel.core._plugins import PluginHost

# The variables that may be set without changing what the listing shows.
NEUTRAL_ENV = frozenset({CACHE_DIR_ENV})
CONFIG_FILE_NAMES = ("sentinel.yaml", "sentinel.yml")


def listing_applies() -> bool:
    """Tell whether this process would load plugins exactly as the saved listing.

    The caller checks its own options; this checks the environment and the
    working folder's config file.
    """
    if not cache_enabled():
        return False
    for name in os.environ:
        if name.startswith("SENTINEL") and name not in NEUTRAL_ENV:
            return False
    return not any(os.path.isfile(name) for name in CONFIG_FILE_NAMES)


def saved_listing() -> dict[str, Any] | None:
    """Return the listing from a current cache file, or None."""
    data = read_cache(cache_file())
    listing = data.get("listing") if data is not None else None
    return listing if isinstance(listing, dict) else None


def print_warnings(listing: dict[str, Any]) -> None:
    """Print the warnings loading the plugins printed, as logging's fallback would."""
    for message in listing.get("warnings", []):
        sys.stderr.write(f"{message}\n")


@contextmanager
def recording_warnings() -> Iterator[list[str]]:
    """Collect the warnings sentinel logs inside the block, then log them as usual.

    Loading runs before the CLI configures logging, so its warnings reach
    stderr through logging's fallback handler as their bare message; the
    listing stores the same text.
    """
    import logging

    messages: list[str] = []
    records: list[logging.LogRecord] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)
            messages.append(record.getMessage())

    recorder = Recorder(logging.WARNING)
    root = logging.getLogger("sentinel")
    root.addHandler(recorder)
    try:
        yield messages
    finally:
        root.removeHandler(recorder)
        # Hand each record to its logger again, now without the recorder, so
        # the output is what it would have been without recording.
        for record in records:
            logging.getLogger(record.name).handle(record)


def save_listing(host: PluginHost, warnings: list[str]) -> None:
    """Save ``host``'s listing in its cache file unless it is there already."""
    from sentinel.core._discovery import save_scan_listing

    listing = host.listing()
    if host.scan is None or listing is None:
        return
    listing["warnings"] = warnings
    if listing != host.scan.listing:
        save_scan_listing(host.scan, listing)
