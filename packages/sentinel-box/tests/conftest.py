"""Fixtures: a Box emulator on a free port and real box_sdk_gen clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from box_sdk_gen import BoxClient

from sentinel.box import BoxEmulator, make_client


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[BoxEmulator]:
    with BoxEmulator(tmp_path / "box") as running:
        yield running


def settings_for(emulator: BoxEmulator, **extra: Any) -> dict[str, Any]:
    """Return a box section that points a client at ``emulator``."""
    return {
        "api_url": emulator.api_url,
        "upload_url": emulator.upload_url,
        "oauth_url": emulator.oauth_url,
        "auth": {"developer_token": "test-token"},
        "timeout": 10.0,
        "max_attempts": 1,
        **extra,
    }


@pytest.fixture
def box_settings(emulator: BoxEmulator) -> dict[str, Any]:
    return settings_for(emulator)


@pytest.fixture
def client(box_settings: dict[str, Any]) -> BoxClient:
    return make_client(box_settings)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """Start a private Valkey server and return its URL."""
    from sentinel.queue import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _fresh_client_state() -> Iterator[None]:
    """Give each test its own in-process token stores, limiters and Redis clients."""
    from sentinel.box._client import reset_shared_state

    reset_shared_state()
    yield
    reset_shared_state()
