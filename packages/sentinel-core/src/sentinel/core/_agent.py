"""The running agent that ``sentinel run`` builds and hands to plugin hooks."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentinel.core._errors import SentinelError
from sentinel.core._events import EventLog

if TYPE_CHECKING:
    from sentinel.core._config import Config
    from sentinel.core._plugins import PluginHost

logger = logging.getLogger(__name__)


class ServiceMissingError(SentinelError, LookupError):
    """A plugin asked for a service that no started plugin provides."""


class Agent:
    """State shared by the plugins of one ``sentinel run`` process.

    Plugins publish services (the job queue, the Box client) with
    :meth:`provide` during startup and look them up with :meth:`service`.
    ``runtime_env`` holds environment variables that child processes need to
    reach those services, such as the address of the embedded Redis server.
    """

    def __init__(self, config: Config, host: PluginHost, workdir: Path) -> None:
        self.config = config
        self.host = host
        self.workdir = workdir
        self.state_dir = workdir / ".sentinel"
        self.events = EventLog()
        self.runtime_env: dict[str, str] = {}
        self.stop_event = threading.Event()
        # The reason of the first request_stop(error=True), which makes the
        # run end with a non-zero exit code.
        self.failure: str | None = None
        self._services: dict[str, Any] = {}

    @property
    def settings(self) -> dict[str, Any]:
        """The merged configuration values."""
        return self.config.values

    def provide(self, name: str, service: Any) -> None:
        """Publish ``service`` under ``name`` for other plugins."""
        if name in self._services:
            raise SentinelError(f"service {name!r} is already provided")
        self._services[name] = service

    def service(self, name: str) -> Any:
        """Return the service published as ``name``."""
        try:
            return self._services[name]
        except KeyError:
            raise ServiceMissingError(
                f"no plugin provides the service {name!r}; install and enable the "
                f"plugin that does (for example: pip install 'sentinel-core[{name}]')"
            ) from None

    def has_service(self, name: str) -> bool:
        """Tell whether a service named ``name`` was provided."""
        return name in self._services

    def request_stop(self, reason: str, *, error: bool = False) -> None:
        """Ask the agent to shut down; safe to call from any thread.

        With ``error``, a plugin reports that the agent cannot go on: the
        reason is logged as an error and ``sentinel run`` exits with code 1.
        """
        if error and self.failure is None:
            self.failure = reason
            logger.error("stopping: %s", reason)
        elif not self.stop_event.is_set():
            logger.info("stopping: %s", reason)
        self.stop_event.set()
