"""What the queue plugin starts and stops for one ``sentinel run``."""

from __future__ import annotations

import logging
import os

from sentinel.core import Agent
from sentinel.queue._pool import WorkerPool, worker_command
from sentinel.queue._queue import Queue
from sentinel.queue._server import EmbeddedRedis

logger = logging.getLogger(__name__)

URL_ENV = "SENTINEL__QUEUE__URL"
WORKER_STOP_TIMEOUT = 30.0


class QueueRuntime:
    """The embedded server, the provided queue and the worker pool of one agent."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.section = dict(agent.settings.get("queue") or {})
        self.server: EmbeddedRedis | None = None
        self.pool: WorkerPool | None = None
        self.queue: Queue | None = None

    def startup(self) -> None:
        """Start the embedded server when queue.url is null, then provide the queue."""
        url = self.section.get("url")
        if not url:
            data_dir = self.agent.workdir / str(self.section.get("data_dir"))
            self.server = EmbeddedRedis(data_dir)
            self.server.start()
            url = self.server.url
        self.agent.runtime_env[URL_ENV] = str(url)
        self.queue = Queue.from_config(self.section, str(url))
        self.agent.provide("queue", self.queue)
        logger.info("queue %s ready at %s", self.queue.name, _without_password(url))

    def ready(self) -> None:
        """Start the worker processes under a supervisor thread."""
        count = int(self.section.get("workers") or 0)
        if count <= 0:
            logger.info("queue.workers is %d; no worker processes started", count)
            return
        config = self.agent.config
        command = worker_command(
            env=config.env, config_path=config.path, queue=self.section.get("name")
        )
        self.pool = WorkerPool(
            command,
            count,
            env=os.environ | self.agent.runtime_env,
            cwd=self.agent.workdir,
        )
        self.pool.start()

    def shutdown(self) -> None:
        """Stop the workers, then stop the embedded server gracefully."""
        if self.pool is not None:
            self.pool.stop(WORKER_STOP_TIMEOUT)
        if self.queue is not None:
            self.queue.client.close()
        if self.server is not None:
            self.server.stop()


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    return f"{scheme}{sep}***@{rest.split('@', 1)[1]}"
