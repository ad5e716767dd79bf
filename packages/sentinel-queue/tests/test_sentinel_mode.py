"""A queue reached through Redis Sentinel, with a real sentinel process."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from sentinel.core import PluginHost
from sentinel.queue import EmbeddedRedis, Queue, QueueConnectionError, Worker
from sentinel.queue._connect import client_for_url
from sentinel.queue._server import valkey_binary

SERVICE = "main"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def sentinel_port(server: EmbeddedRedis, tmp_path: Path) -> Iterator[int]:
    """Start a Valkey sentinel that monitors the test server as ``main``."""
    port = free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor {SERVICE} 127.0.0.1 {server.port} 1\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [str(valkey_binary()), str(config), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        probe = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                if probe.execute_command("SENTINEL", "MASTERS"):
                    break
            except redis.ConnectionError:
                pass
            assert time.monotonic() < deadline, "sentinel did not start"
            time.sleep(0.05)
        probe.close()
        yield port
    finally:
        process.kill()
        process.wait(timeout=30)


def test_queue_through_sentinel_url(
    server: EmbeddedRedis, sentinel_port: int, host: PluginHost
) -> None:
    client = client_for_url(f"redis+sentinel://127.0.0.1:{sentinel_port}/{SERVICE}")
    queue = Queue(client, "through-sentinel")
    job_id = queue.enqueue("qtest.echo", {"x": 1})

    Worker(queue, host.registry, name="w-sentinel", config={}).run(burst=True)

    job = queue.get(job_id)
    assert job is not None
    assert job["state"] == "done"
    direct = redis.Redis.from_url(server.url, decode_responses=True)
    assert any("through-sentinel" in key for key in direct.scan_iter("sentinel:*"))
    direct.close()


def test_sentinel_url_without_service_rejected() -> None:
    with pytest.raises(QueueConnectionError, match="service name is missing"):
        client_for_url("redis+sentinel://127.0.0.1:26379")
