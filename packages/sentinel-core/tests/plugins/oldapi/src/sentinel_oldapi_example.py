"""A plugin that imports a name the core no longer has."""

from sentinel.core import LegacyTaskRunner  # type: ignore[attr-defined]

__all__ = ["LegacyTaskRunner"]
