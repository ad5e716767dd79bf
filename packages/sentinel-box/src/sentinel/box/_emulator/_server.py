"""Run the Box emulator's aiohttp server in a background thread."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Collection, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from sentinel.box._emulator._app import UPLOAD_PREFIX, build_app
from sentinel.box._emulator._auth import TokenPolicy
from sentinel.box._emulator._config import EmulatorConfig
from sentinel.box._emulator._faults import FaultPlan
from sentinel.box._emulator._limits import RateLimiter
from sentinel.box._emulator._requests import RequestLog
from sentinel.box._emulator._store import EmulatorStore
from sentinel.box._errors import BoxError

logger = logging.getLogger(__name__)

_START_TIMEOUT = 30.0


class BoxEmulator:
    """A local Box API server that serves the folder ``root`` as a Box account.

    ``start()`` runs it in a daemon thread and returns once it listens; the
    base URLs for a Box client are then ``api_url``, ``upload_url`` and
    ``oauth_url``. Port 0 picks a free port. ``config`` contains every setting
    (rate limits, token lifetime, part size...); ``tokens``, ``clients`` and
    ``latency`` override the matching ones. By default any bearer token is
    accepted, like a developer token. ``faults`` queues failures for tests,
    ``requests`` counts every request served, by endpoint, token and status.
    """

    def __init__(
        self,
        root: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tokens: Collection[str] | None = None,
        clients: Mapping[str, str] | None = None,
        latency: float | None = None,
        config: EmulatorConfig | None = None,
    ) -> None:
        config = config or EmulatorConfig()
        if tokens is not None:
            config = config.updated(tokens=list(tokens))
        if clients is not None:
            config = config.updated(clients=dict(clients))
        if latency is not None:
            config = config.updated(latency=latency)
        self.root = Path(root)
        self.host = host
        self.port = port
        self.config = config
        self.faults = FaultPlan(config.latency)
        self.requests = RequestLog()
        self.limiter = RateLimiter(config.user_limits, config.enterprise_limits)
        self._policy = TokenPolicy(
            config.tokens,
            config.clients,
            lifetime=config.token_lifetime,
            jwt_public_keys=config.jwt_public_keys,
        )
        self._store: EmulatorStore | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: OSError | None = None
        self._listening = False

    @property
    def tokens(self) -> TokenPolicy:
        """The accepted tokens and credentials, and the tokens issued so far."""
        return self._policy

    def expire_access_tokens(self) -> int:
        """Make every issued access token fail with 401; return how many."""
        return self._policy.expire_access_tokens()

    def issue_oauth_tokens(self, user_id: str | None = None) -> dict[str, Any]:
        """Issue an access and refresh token pair, as an OAuth 2.0 consent does."""
        if user_id is None:
            return self._policy.issue(refreshable=True)
        return self._policy.issue(refreshable=True, user_id=user_id)

    def set_limits(
        self,
        user_limits: Mapping[str, object] | None = None,
        enterprise_limits: Mapping[str, object] | None = None,
    ) -> None:
        """Replace the rate limits, written like ``{"upload": "20/s"}``."""
        config = self.config.updated(
            user_limits=dict(user_limits or {}),
            enterprise_limits=dict(enterprise_limits or {}),
        )
        self.config.user_limits = config.user_limits
        self.config.enterprise_limits = config.enterprise_limits
        self.limiter.user_limits = dict(config.user_limits)
        self.limiter.enterprise_limits = dict(config.enterprise_limits)
        self.limiter.reset()

    @property
    def store(self) -> EmulatorStore:
        """The item tree being served."""
        if self._store is None:
            raise BoxError("the Box emulator is not started; call start() first")
        return self._store

    @property
    def url(self) -> str:
        """Base URL of the server, such as ``http://127.0.0.1:40123``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The value for ``box.api_url``: where API requests go."""
        return self.url

    @property
    def upload_url(self) -> str:
        """The value for ``box.upload_url``: where uploads go."""
        return self.url + UPLOAD_PREFIX

    @property
    def oauth_url(self) -> str:
        """The value for ``box.oauth_url``: the OAuth 2.0 authorize base."""
        return self.url + "/api/oauth2"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._listening

    def start(self) -> BoxEmulator:
        """Open the store, start serving in a background thread and return self."""
        if self._thread is not None:
            raise BoxError("the Box emulator is already started")
        self._store = EmulatorStore(
            self.root, durable=self.config.durable, save_delay=self.config.save_delay
        )
        self._thread = threading.Thread(
            target=self._run, name=f"box-emulator-{self.port}", daemon=True
        )
        self._thread.start()
        self._ready.wait(_START_TIMEOUT)
        if not self._listening:
            self._thread.join(timeout=5)
            self._thread = None
            raise BoxError(
                f"the Box emulator could not listen on {self.host}:{self.port}: "
                f"{self._failure}; choose another port or host"
            ) from self._failure
        # Debug only: the command and the run hook each say where it serves.
        logger.debug("Box emulator serving %s at %s", self.store.root, self.url)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None or stopping is None:
            return
        loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout=_START_TIMEOUT)
        self._thread = None
        self._loop = None
        self._ready.clear()
        if self._store is not None:
            self._store.close()
        logger.info("Box emulator at %s stopped", self.url)

    def __enter__(self) -> BoxEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except OSError as error:
            # A port in use or a bad host; start() raises it in the caller's thread.
            self._failure = error
        finally:
            self._listening = False
            self._ready.set()
            self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        app = build_app(
            self.store,
            self._policy,
            self.faults,
            config=self.config,
            limiter=self.limiter,
            log=self.requests,
        )
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            self.port = int(runner.addresses[0][1])
            self._listening = True
            self._ready.set()
            await self._stopping.wait()
        finally:
            await runner.cleanup()
