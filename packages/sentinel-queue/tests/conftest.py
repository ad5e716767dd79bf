"""Fixtures: a real embedded server per test and the test task plugin."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import redis

from sentinel.core import PluginHost
from sentinel.queue import EmbeddedRedis, Queue, connect

PLUGIN_DIR = Path(__file__).parent / "plugins"
EXTRA_PLUGINS = "qtest=queue_test_tasks"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """Start an embedded server on a free port with data in tmp_path."""
    embedded = EmbeddedRedis(tmp_path / "redis")
    embedded.start()
    yield embedded
    embedded.kill()


@pytest.fixture
def client(server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """Return a client of the test server."""
    connection = connect(server.url)
    yield connection
    connection.close()


@pytest.fixture
def queue(client: redis.Redis) -> Queue:
    """Return a queue with short leases and two retries."""
    return Queue(client, "test", max_retries=2, lease_seconds=1.0)


@pytest.fixture
def tasks_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import the test task plugin module."""
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    return importlib.import_module("queue_test_tasks")


@pytest.fixture
def host(tasks_module: ModuleType) -> PluginHost:
    """Return a plugin host with only the test tasks registered."""
    plugin_host = PluginHost()
    plugin_host.register_module("qtest", tasks_module)
    return plugin_host


def worker_env(url: str, **overrides: str) -> dict[str, str]:
    """Build the environment of a worker process that knows the test tasks."""
    env = dict(os.environ)
    env.pop("SENTINEL_CONFIG", None)
    env.pop("SENTINEL_ENV", None)
    env.update(
        {
            "SENTINEL__QUEUE__URL": url,
            "SENTINEL__QUEUE__NAME": "test",
            "SENTINEL__QUEUE__LEASE_SECONDS": "1.0",
            "SENTINEL__QUEUE__RETRY_BACKOFF": "0.05",
            "SENTINEL_EXTRA_PLUGINS": EXTRA_PLUGINS,
            "PYTHONPATH": os.pathsep.join(
                [str(PLUGIN_DIR), env.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


WORKER_COMMAND = [
    sys.executable,
    "-m",
    "sentinel.core.cli",
    "-v",
    "queue",
    "worker",
    "--workers",
    "1",
]


@pytest.fixture
def make_worker_env() -> object:
    """Return the function that builds a worker process environment."""
    return worker_env


@pytest.fixture
def worker_command() -> list[str]:
    """Return the command line of one worker process."""
    return list(WORKER_COMMAND)
