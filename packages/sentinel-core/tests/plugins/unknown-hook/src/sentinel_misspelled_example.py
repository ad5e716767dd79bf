"""A plugin whose hook name has a typo, so no spec matches it."""

from sentinel.core import hookimpl


@hookimpl
def sentinel_startpu(agent: object) -> None:
    """Misspelled on purpose: the host must reject it, not ignore it."""
