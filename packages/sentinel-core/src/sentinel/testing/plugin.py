"""The pytest plugin of sentinel: fixtures for testing sentinel plugins.

pytest loads this module through the ``pytest11`` entry point of
sentinel-core. It imports only pytest and the core at import time, because
pytest loads it in every test run of the environment.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Contract checks are plain asserts; registering their modules before any
# test imports them makes pytest show the compared values on failure.
pytest.register_assert_rewrite(
    "sentinel.testing._contract_base",
    "sentinel.testing._file_contract",
    "sentinel.testing._log_contract",
    "sentinel.testing._task_contract",
    "sentinel.testing._web_contract",
)

from sentinel.core import PluginHost  # noqa: E402 - after the rewrite hook
from sentinel.testing._agent import RunningAgent  # noqa: E402

if TYPE_CHECKING:
    from sentinel.box import BoxEmulator
    from sentinel.queue import EmbeddedRedis


def _require(module: str, distribution: str, fixture: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(
            f"fixture {fixture} needs {module}, which is not installed; "
            f"install {distribution} (pip install 'sentinel-core[{distribution}]') "
            "to run this test"
        )


SELECTION_VARIABLES = (
    "SENTINEL_DISABLE_PLUGINS",
    "SENTINEL_PLUGINS",
    "SENTINEL_STRICT",
    "SENTINEL_EXTRA_PLUGINS",
)


def _isolate(monkeypatch: pytest.MonkeyPatch, cache_dir: Path) -> None:
    # The developer's shell must not change which plugins load, and the scan
    # cache of the test must not touch the user's cache.
    for name in SELECTION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SENTINEL_CACHE_DIR", str(cache_dir))


@pytest.fixture
def sentinel_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> PluginHost:
    """Return a plugin host with no plugin registered, whatever is installed.

    Register a plugin module that declares through hooks with
    ``sentinel_host.register_module(id, module)``.
    """
    _isolate(monkeypatch, tmp_path_factory.mktemp("plugin-cache"))
    return PluginHost()


@pytest.fixture
def sentinel_plugins(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., PluginHost]:
    """Return a function that loads only the named installed plugins.

    ``sentinel_plugins("acme")`` scans the installed distributions as the
    CLI does, reading declaration files, and enables the plugin ``acme``
    and the core alone, so other installed plugins cannot affect the test.
    """
    _isolate(monkeypatch, tmp_path_factory.mktemp("plugin-cache"))

    def load(*plugin_ids: str) -> PluginHost:
        host = PluginHost(only=plugin_ids)
        host.load_entry_points()
        return host

    return load


@pytest.fixture
def sentinel_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """Start an embedded Redis-compatible server on a free loopback port.

    Its ``url`` is the value for ``queue.url``. The test is skipped when
    sentinel-queue, which ships the server, is not installed.
    """
    _require("sentinel.queue", "queue", "sentinel_redis")
    from sentinel.queue import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def box_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoxEmulator]:
    """Start the Box API emulator on a free loopback port with an empty tree.

    Point a client at ``api_url``, ``upload_url`` and ``oauth_url``; the
    emulator accepts any non-empty developer token. Skipped when sentinel-box
    is not installed.
    """
    _require("sentinel.box", "box", "box_emulator")
    from sentinel.box import BoxEmulator

    emulator = BoxEmulator(tmp_path_factory.mktemp("box"), "127.0.0.1", 0)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def sentinel_agent_settings() -> dict[str, Any]:
    """Settings that ``sentinel_agent`` merges over its test defaults.

    Override this fixture in a test module to configure the agent, for
    example to add a route for the plugin's own task.
    """
    return {}


@pytest.fixture
def sentinel_agent(
    tmp_path: Path, sentinel_agent_settings: dict[str, Any]
) -> Iterator[RunningAgent]:
    """Start an agent with every installed plugin and a temporary inbox.

    The agent works in ``tmp_path``: drop files with ``sentinel_agent.drop``
    and wait for them with ``sentinel_agent.wait_processed``.
    """
    running = RunningAgent(tmp_path / "agent", sentinel_agent_settings)
    running.start()
    try:
        yield running
    finally:
        running.stop()
