"""The dashboard server, run in its own thread with its own event loop."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from aiohttp import web

from sentinel.core import Agent
from sentinel.web._app import create_app
from sentinel.web._errors import WebServerError

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# Seconds that start() waits for the socket and stop() waits for open requests.
START_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 5.0


class WebServer:
    """Serve :func:`create_app` for ``agent`` on ``host`` and ``port`` in a thread.

    Port 0 picks a free port; :attr:`url` tells which one after :meth:`start`.
    Extra keyword arguments go to :func:`create_app`.
    """

    def __init__(
        self,
        agent: Agent,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        **app_options: Any,
    ) -> None:
        self.agent = agent
        self.host = host
        self.port = port
        self._app_options = app_options
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._listening = threading.Event()
        self._error: BaseException | None = None
        self._address: tuple[str, int] | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The host and port the server listens on, or last listened on."""
        if self._address is None:
            raise WebServerError("the web server is not running; call start() first")
        return self._address

    @property
    def url(self) -> str:
        """The dashboard's URL, such as ``http://127.0.0.1:8765/``."""
        host, port = self.address
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def start(self) -> None:
        """Start serving and return once the socket listens.

        Raises :class:`WebServerError` when the address cannot be bound.
        """
        if self._thread is not None:
            raise WebServerError("the web server is already started")
        self._thread = threading.Thread(
            target=self._run, name="sentinel-web", daemon=True
        )
        self._thread.start()
        if not self._listening.wait(START_TIMEOUT):
            raise WebServerError(
                f"the web server did not listen on {self.host}:{self.port} "
                f"within {START_TIMEOUT:g} seconds"
            )
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise WebServerError(
                f"cannot serve the dashboard on {self.host}:{self.port}: "
                f"{self._error}; set web.port to a free port, or 0 for any"
            ) from self._error
        logger.info("web server %s: listening", self.url)

    def stop(self) -> None:
        """Close open streams, stop serving and wait for the thread to end."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        thread.join()
        self._thread = None
        logger.info("web server %s: stopped", self._bound_or_requested())

    def _bound_or_requested(self) -> str:
        """Return the URL the server is bound to, or host:port before binding."""
        if self._address is None:
            return f"{self.host}:{self.port}"
        return self.url

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:
            if self._listening.is_set():
                logger.exception("web server %s: failed", self._bound_or_requested())
            else:
                # start() raises it in the caller's thread.
                self._error = exc
        finally:
            self._listening.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = create_app(self.agent, **self._app_options)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            address = runner.addresses[0]
            self._address = (str(address[0]), int(address[1]))
            self._listening.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()
