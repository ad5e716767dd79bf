"""Ownership of declared names, which decides conflicts before id order."""

from __future__ import annotations

from collections.abc import Iterable

# The core's own plugin declares the config sections and commands every
# installation needs; an allowlist or a disable list cannot switch it off.
CORE_PLUGIN = "core"


def name_owner(key: str, plugins: Iterable[str]) -> str | None:
    """Return the plugin among ``plugins`` that owns the declared ``key``, if any.

    ``key`` is ``config:NAME``, ``command:NAME`` or ``KIND:NAME``. The core
    owns everything it declares. A config section or a command belongs to
    the plugin whose id is its name. A dotted type name such as
    ``files.process`` belongs to the plugin whose id is its first part. So a
    third-party plugin cannot take these names over by sorting first. Other
    names have no owner.
    """
    claimants = set(plugins)
    if CORE_PLUGIN in claimants:
        return CORE_PLUGIN
    kind, _, name = key.partition(":")
    if kind in ("config", "command"):
        owner = name
    elif "." in name:
        owner = name.partition(".")[0]
    else:
        return None
    return owner if owner in claimants else None
