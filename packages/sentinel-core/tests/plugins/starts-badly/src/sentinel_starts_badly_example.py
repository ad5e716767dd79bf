"""A plugin whose start-up fails the way a busy port does."""

from typing import Any

from sentinel.core import SentinelError, hookimpl


@hookimpl
def sentinel_startup(agent: Any) -> None:
    """Fail with a message that already says what to do."""
    raise SentinelError("port 8765 is in use; set web.port to a free port")
