"""A queue on a local three-master Redis Cluster made of embedded server processes."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from sentinel.core import PluginHost
from sentinel.queue import Queue, Worker, connect
from sentinel.queue._server import valkey_binary

SLOTS = 16384


def free_node_port(taken: set[int]) -> int:
    """Return a free port whose cluster bus port (port + 10000) is free too."""
    rng = random.Random()
    while True:
        port = rng.randrange(20000, 45000)
        if port in taken:
            continue
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        taken.add(port)
        return port


def start_node(folder: Path, port: int) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True)
    config = folder / "node.conf"
    config.write_text(
        "\n".join(
            [
                f"port {port}",
                "bind 127.0.0.1",
                f'dir "{folder}"',
                "cluster-enabled yes",
                "cluster-config-file nodes.conf",
                "cluster-node-timeout 2000",
                "appendonly no",
                'save ""',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    with (folder / "node.log").open("wb") as log:
        return subprocess.Popen(
            [str(valkey_binary()), str(config)],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except redis.ConnectionError:
            pass
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def cluster_url(tmp_path: Path) -> Iterator[str]:
    taken: set[int] = set()
    ports = [free_node_port(taken) for _ in range(3)]
    nodes = [start_node(tmp_path / f"node{port}", port) for port in ports]
    clients = [
        redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
        for port in ports
    ]
    try:
        for client in clients:
            wait_for(client.ping)
        share = SLOTS // 3
        for index, client in enumerate(clients):
            last = SLOTS - 1 if index == 2 else (index + 1) * share - 1
            client.execute_command("CLUSTER ADDSLOTSRANGE", index * share, last)
        for client in clients[1:]:
            client.execute_command("CLUSTER MEET", "127.0.0.1", ports[0])
        for client in clients:
            wait_for(lambda c=client: c.cluster("info")["cluster_state"] == "ok")
        yield f"redis+cluster://127.0.0.1:{ports[0]}"
    finally:
        for client in clients:
            client.close()
        for node in nodes:
            node.kill()
            node.wait()


def test_queue_on_three_master_cluster(cluster_url: str, host: PluginHost) -> None:
    client = connect(cluster_url)
    assert isinstance(client, RedisCluster)
    masters = {node.port for node in client.get_primaries()}
    assert len(masters) == 3
    names = ["alpha", "beta", "gamma", "delta"]
    queues = [Queue(client, name, max_retries=1) for name in names]
    # The queues' hash tags spread over the masters, each queue in one slot.
    slots = {client.keyslot(queue.keys.queued) for queue in queues}
    assert len(slots) == len(queues)
    ids = {
        queue.name: [queue.enqueue("qtest.echo", {"n": n}) for n in range(10)]
        for queue in queues
    }
    failing = queues[0].enqueue("qtest.permanent", {"log": "/dev/null"})
    Worker(queues, host.registry, name="w-cluster").run(burst=True)
    for queue in queues:
        states = {(queue.get(job_id) or {}).get("state") for job_id in ids[queue.name]}
        assert states == {"done"}
        assert queue.counts()["done"] == 10
    assert (queues[0].get(failing) or {})["state"] == "failed"
    client.close()
