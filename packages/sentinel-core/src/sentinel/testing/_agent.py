"""An agent started in the test process, as ``sentinel run`` starts it."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from sentinel.core import Agent, SentinelError, bootstrap

logger = logging.getLogger(__name__)

PHASES = ("sentinel_startup", "sentinel_ready")
SHUTDOWN = "sentinel_shutdown"


def agent_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the ``default`` settings of a test agent, merged with ``overrides``.

    Every server listens on a free loopback port, one worker process runs
    jobs, and a file counts as ready after 0.2 quiet seconds, so a test does
    not wait on production timings or collide with another test's ports.
    """
    settings: dict[str, Any] = {
        "queue": {"workers": 1, "retry_backoff": 0.1},
        "files": {"quiet_seconds": 0.2},
        "web": {"port": 0},
        "box": {"emulator": {"port": 0}},
    }
    return _merge(settings, dict(overrides or {}))


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class RunningAgent:
    """A sentinel agent with every installed plugin, working in ``workdir``.

    :meth:`start` writes ``workdir/sentinel.yaml``, loads the plugins and
    calls every ``sentinel_startup`` and ``sentinel_ready`` hook, the way
    ``sentinel run`` does; :meth:`stop` calls every ``sentinel_shutdown``.
    The default route watches ``workdir/inbox`` and moves files to
    ``workdir/processed`` or ``workdir/failed``.
    """

    def __init__(
        self,
        workdir: Path,
        settings: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.settings = agent_config(settings)
        self.config_path = workdir / "sentinel.yaml"
        self.inbox = workdir / "inbox"
        self.processed = workdir / "processed"
        self.failed = workdir / "failed"
        # The agent reads only its own file: SENTINEL_* variables of the
        # developer's shell would otherwise change the test's config.
        source = os.environ if environ is None else environ
        self.environ = {k: v for k, v in source.items() if not k.startswith("SENTINEL")}
        self._agent: Agent | None = None

    @property
    def agent(self) -> Agent:
        """The started :class:`sentinel.core.Agent`."""
        if self._agent is None:
            raise SentinelError("the test agent is not started; call start() first")
        return self._agent

    def start(self) -> RunningAgent:
        """Load the plugins and run the start-up phases; stop again if one fails."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.inbox.mkdir(exist_ok=True)
        document = {"default": self.settings}
        self.config_path.write_text(yaml.safe_dump(document), encoding="utf-8")
        host, config = bootstrap(config_path=self.config_path, environ=self.environ)
        agent = Agent(config, host, self.workdir)
        agent.runtime_env["SENTINEL_CONFIG"] = str(self.config_path)
        self._agent = agent
        try:
            for phase in PHASES:
                self._call_phase(phase, stop_on_error=True)
        except BaseException:
            self._call_phase(SHUTDOWN, stop_on_error=False)
            self._agent = None
            raise
        return self

    def stop(self) -> None:
        """Run every shutdown hook once; later calls do nothing."""
        if self._agent is None:
            return
        self._agent.request_stop("test finished")
        try:
            self._call_phase(SHUTDOWN, stop_on_error=False)
        finally:
            self._agent = None

    def _call_phase(self, hook_name: str, *, stop_on_error: bool) -> None:
        caller = getattr(self.agent.host.pm.hook, hook_name)
        # pluggy lists implementations last-called first; tryfirst and
        # trylast markers therefore keep their meaning here.
        for impl in reversed(caller.get_hookimpls()):
            try:
                impl.function(agent=self.agent)
            except Exception as exc:
                logger.exception("plugin %s failed in %s", impl.plugin_name, hook_name)
                if stop_on_error:
                    raise SentinelError(
                        f"plugin {impl.plugin_name!r} failed in {hook_name}: {exc}"
                    ) from exc

    def service(self, name: str) -> Any:
        """Return a service that a plugin provided, such as ``"queue"``."""
        return self.agent.service(name)

    def drop(self, relative: str, content: bytes | str) -> Path:
        """Write a file into the inbox in one rename, as a finished upload would."""
        target = self.inbox / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = self.workdir / f".{target.name}.part"
        data = content.encode("utf-8") if isinstance(content, str) else content
        staging.write_bytes(data)
        staging.replace(target)
        return target

    def wait_for(
        self, condition: Callable[[], Any], timeout: float = 60.0, what: str = ""
    ) -> Any:
        """Poll ``condition`` until it returns a true value; raise on ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"waited {timeout} s for {what or condition!r}; it did not happen"
                )
            time.sleep(0.05)

    def wait_processed(self, relative: str, timeout: float = 60.0) -> Path:
        """Wait until ``relative`` has moved to ``processed`` and return that path.

        A file that lands in ``failed`` instead ends the wait early with the
        reason the pipeline wrote next to it.
        """
        done = self.processed / relative
        rejected = self.failed / relative

        def settled() -> bool:
            return done.exists() or rejected.exists()

        self.wait_for(settled, timeout, f"{relative} to leave the inbox")
        if not done.exists():
            reason_file = rejected.with_name(rejected.name + ".reason.txt")
            reason = reason_file.read_text("utf-8") if reason_file.exists() else "?"
            raise AssertionError(f"{relative} was moved to failed: {reason.strip()}")
        return done

    def __enter__(self) -> RunningAgent:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
