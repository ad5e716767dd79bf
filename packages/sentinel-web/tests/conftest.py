"""Fixtures: an agent built from a real plugin host, config and Redis queue."""

from __future__ import annotations

import itertools
import textwrap
import types
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

import sentinel.web.plugin
from sentinel.core import (
    WEB_ROUTES,
    Agent,
    ConfigSection,
    EventLog,
    Field,
    PluginHost,
    TypeSpec,
    hookimpl,
    load_config,
)
from sentinel.queue import EmbeddedRedis, Queue
from sentinel.web import create_app

SECRET = "hunter2-not-for-output"

ROUTES_MODULE = textwrap.dedent(
    '''
    """Route sets that the tests register through a plugin."""

    from aiohttp import web


    def register_hello(app, agent):
        async def hello(request):
            return web.json_response({"hello": agent.workdir.name})

        app.router.add_get("/api/hello", hello)


    def register_broken(app, agent):
        raise RuntimeError("this route set is broken on purpose")
    '''
)

_queue_names = itertools.count()


class FolderCounts:
    """Stand-in for the files plugin's service: a collaborator, not the unit.

    The web package only reads ``folder_counts()``; tests set the numbers.
    """

    def __init__(self) -> None:
        self.routes: dict[str, dict[str, int]] = {
            "inbox": {"inbox": 2, "processed": 5, "failed": 1}
        }

    def folder_counts(self) -> dict[str, dict[str, int]]:
        return {route: dict(counts) for route, counts in self.routes.items()}


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def queue(redis_server: EmbeddedRedis) -> Iterator[Queue]:
    q = Queue.from_url(redis_server.url, f"web-test-{next(_queue_names)}")
    yield q
    q.clear()


@pytest.fixture
def routes_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A plugin with a secret config key and two route sets, one of them broken."""
    module_dir = tmp_path / "plugin_src"
    module_dir.mkdir()
    module_name = f"web_test_routes_{tmp_path.name.replace('-', '_')}"
    (module_dir / f"{module_name}.py").write_text(ROUTES_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(module_dir))

    class Plugin:
        @staticmethod
        @hookimpl
        def sentinel_types() -> list[TypeSpec]:
            return [
                TypeSpec(WEB_ROUTES, "hello", f"{module_name}:register_hello"),
                TypeSpec(WEB_ROUTES, "broken", f"{module_name}:register_broken"),
            ]

        @staticmethod
        @hookimpl
        def sentinel_config_sections() -> list[ConfigSection]:
            return [
                ConfigSection(
                    "demo",
                    {
                        "password": Field(
                            str, None, "A secret.", secret=True, nullable=True
                        )
                    },
                )
            ]

    return types.SimpleNamespace(
        sentinel_types=Plugin.sentinel_types,
        sentinel_config_sections=Plugin.sentinel_config_sections,
        __name__="web_test_plugin",
    )


@pytest.fixture
def host(routes_plugin: Any) -> PluginHost:
    plugin_host = PluginHost()
    plugin_host.register_module("web", sentinel.web.plugin)
    plugin_host.register_module("demo", routes_plugin)
    return plugin_host


def make_agent(host: PluginHost, workdir: Path, environ: dict[str, str]) -> Agent:
    config = load_config(None, None, sections=host.config_sections(), environ=environ)
    return Agent(config, host, workdir)


@pytest.fixture
def bare_agent(host: PluginHost, tmp_path: Path) -> Agent:
    """An agent with no queue or files service, its event numbers starting at 1."""
    agent = make_agent(host, tmp_path, {"SENTINEL__DEMO__PASSWORD": SECRET})
    agent.events = EventLog(start=0)
    return agent


@pytest.fixture
def folders() -> FolderCounts:
    return FolderCounts()


@pytest.fixture
def agent(bare_agent: Agent, queue: Queue, folders: FolderCounts) -> Agent:
    bare_agent.provide("queue", queue)
    bare_agent.provide("files", folders)
    return bare_agent


@pytest_asyncio.fixture
async def client(agent: Agent) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(agent, poll_interval=0.05, heartbeat_interval=0.2)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


@pytest_asyncio.fixture
async def bare_client(bare_agent: Agent) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(bare_agent, poll_interval=0.05, heartbeat_interval=0.2)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


class JobRunner:
    """Moves jobs through the real queue to the done or failed list."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def finish(self, task: str, payload: dict[str, Any], result: Any) -> str:
        job_id = self.queue.enqueue(task, payload)
        job = self.queue.fetch("web-test-worker")
        # The queue hands out its oldest job; a test that left another one
        # queued would finish the wrong job.
        assert not isinstance(job, (float, type(None)))
        assert job.id == job_id
        assert self.queue.finish(job, result)
        return job_id

    def fail(self, task: str, payload: dict[str, Any], error: str) -> str:
        job_id = self.queue.enqueue(task, payload, max_retries=0)
        job = self.queue.fetch("web-test-worker")
        # The queue hands out its oldest job; a test that left another one
        # queued would finish the wrong job.
        assert not isinstance(job, (float, type(None)))
        assert job.id == job_id
        assert self.queue.fail(job, error, None) == "failed"
        return job_id


@pytest.fixture
def jobs(queue: Queue) -> JobRunner:
    return JobRunner(queue)


@pytest.fixture
def secret() -> str:
    """The value of the secret config key demo.password."""
    return SECRET
