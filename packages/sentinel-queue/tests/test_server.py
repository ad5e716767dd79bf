"""Tests of EmbeddedRedis against the real Valkey binary."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from sentinel.queue import EmbeddedRedis, ServerStartError, connect


def test_embedded_redis_start_serves_loopback(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "data") as server:
        assert server.url.startswith("redis://127.0.0.1:")
        assert server.running
        client = connect(server.url)
        assert client.ping()
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        client.close()
    assert not server.running
    assert (tmp_path / "data" / "appendonlydir").is_dir()


def test_embedded_redis_stop_keeps_data(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "data")
    server.start()
    port = server.port
    client = connect(server.url)
    client.set("kept", "yes")
    server.stop()
    server.start()
    try:
        assert server.port == port
        assert client.get("kept") == "yes"
    finally:
        client.close()
        server.stop()


def test_embedded_redis_kill_keeps_acknowledged_writes(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "data")
    server.start()
    client = connect(server.url)
    client.rpush("jobs", *[str(i) for i in range(100)])
    server.kill()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    server.start()
    try:
        assert client.llen("jobs") == 100
    finally:
        client.close()
        server.stop()


def test_embedded_redis_url_before_start(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError, match="call start"):
        _ = EmbeddedRedis(tmp_path).url


def test_embedded_redis_port_in_use(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "first") as first:
        second = EmbeddedRedis(tmp_path / "second", port=first.port)
        with pytest.raises(ServerStartError, match=str(first.port)):
            second.start()
        assert not second.running
