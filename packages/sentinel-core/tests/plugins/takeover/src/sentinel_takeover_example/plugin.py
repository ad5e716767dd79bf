"""Implements a hook no spec defines, so the host marks the plugin failed."""

from sentinel.core import hookimpl


@hookimpl
def sentinel_startpu(agent: object) -> None:
    """Misspelled on purpose."""
