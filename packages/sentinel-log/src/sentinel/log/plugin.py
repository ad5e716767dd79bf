"""The sentinel-log plugin: attaches the Slack and Twilio handlers during a run.

The handler types and the ``log`` config section are declared in plugin.toml
beside this module, which the host reads without importing it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sentinel.core import hookimpl, plugin_declarations

if TYPE_CHECKING:
    from sentinel.core import Agent
    from sentinel.log._handler import BackgroundHandler

logger = logging.getLogger(__name__)

# The section is declared in plugin.toml; its defaults are read from there.
LOG_SECTION = plugin_declarations(__name__).section("log")

# Handlers attached by sentinel_startup, per agent, so shutdown removes
# exactly those and leaves handlers that the CLI or the application added.
_attached: dict[int, list[BackgroundHandler]] = {}


@hookimpl
def sentinel_startup(agent: Agent) -> None:
    """Attach the configured Slack and Twilio handlers to the root logger."""
    from sentinel.log._setup import handlers_from_settings

    settings = agent.settings.get("log") or {}
    secrets = agent.config.secret_values()
    handlers = handlers_from_settings(settings, secrets)
    root = logging.getLogger()
    for handler in handlers:
        root.addHandler(handler)
        logger.info(
            "%s: sending log records at %s and above",
            type(handler).__name__,
            logging.getLevelName(handler.level),
        )
    _attached[id(agent)] = handlers


@hookimpl
def sentinel_shutdown(agent: Agent) -> None:
    """Detach the handlers that startup attached and send what they still hold."""
    root = logging.getLogger()
    for handler in _attached.pop(id(agent), []):
        root.removeHandler(handler)
        handler.close()
