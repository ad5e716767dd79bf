"""What the queue plugin starts and stops for one ``sentinel run``."""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType
from typing import Any

from sentinel.core import Agent, ConfigError, redact_url
from sentinel.queue._connect import check_connection
from sentinel.queue._pool import WorkerPool, worker_command
from sentinel.queue._queue import Queue
from sentinel.queue._server import EmbeddedRedis
from sentinel.queue._supervisor import ServerSupervisor
from sentinel.queue._threads import threads_setting

logger = logging.getLogger(__name__)

URL_ENV = "SENTINEL__QUEUE__URL"
WORKER_STOP_TIMEOUT = 30.0
# Keys whose values must be at least 1, with what to write instead.
POSITIVE_INTS = ("workers",)


def validate_section(section: dict[str, Any]) -> None:
    """Reject queue settings that would leave files waiting forever."""
    for key in POSITIVE_INTS:
        value = section.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(
                f"queue.{key} is {value!r}; expected a whole number of at least 1 "
                f"(worker processes to start); set queue.{key}: 2 or more"
            )
    threads_setting(section.get("threads"))
    lease = section.get("lease_seconds")
    if lease is not None and float(lease) <= 0:
        raise ConfigError(
            f"queue.lease_seconds is {lease!r}; expected a positive number of seconds"
        )


class QueueRuntime:
    """The embedded server, the provided queue and the worker pool of one agent."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.section = dict(agent.settings.get("queue") or {})
        self.server: EmbeddedRedis | None = None
        self.supervisor: ServerSupervisor | None = None
        self.pool: WorkerPool | None = None
        self.queue: Queue | None = None

    def startup(self) -> None:
        """Check the settings, start the embedded server when queue.url is null,
        check that the server answers, then provide the queue."""
        validate_section(self.section)
        url = self.section.get("url")
        if not url:
            data_dir = self.agent.workdir / str(self.section.get("data_dir"))
            # start() locks the data folder for this agent, or raises
            # DataDirInUseError naming the agent that holds it.
            self.server = EmbeddedRedis(data_dir)
            self.server.start()
            self.supervisor = ServerSupervisor(self.server, self._give_up)
            self.supervisor.start()
            url = self.server.url
        self.queue = Queue.from_config(self.section, str(url))
        check_connection(self.queue.client, str(url))
        self.agent.runtime_env[URL_ENV] = str(url)
        self.agent.provide("queue", self.queue)
        logger.info("queue %s ready at %s", self.queue.name, redact_url(str(url)))

    def _give_up(self, reason: str) -> None:
        self.agent.request_stop(reason, error=True)

    def ready(self) -> None:
        """Start the worker processes under a supervisor thread."""
        count = int(self.section["workers"])
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
        self._chain_second_signal()

    def _chain_second_signal(self) -> None:
        """On the second SIGINT or SIGTERM, stop workers and server before exiting.

        The agent exits at once on a second signal; without this, the
        workers (in sessions of their own) would run on against a server
        that is about to go.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if not callable(previous):
                continue
            signal.signal(signum, self._second_signal_handler(previous))

    def _second_signal_handler(self, previous: Any) -> Any:
        def handle(signum: int, frame: FrameType | None) -> None:
            if self.agent.stop_event.is_set():
                self.stop_now(signal.Signals(signum).name)
            previous(signum, frame)

        return handle

    def stop_now(self, reason: str) -> None:
        """Kill the workers and ask the embedded server to save and exit."""
        logger.warning(
            "second %s: stopping the workers at once; leases bring their jobs back",
            reason,
        )
        if self.supervisor is not None:
            self.supervisor.stop()
        if self.pool is not None:
            self.pool.kill()
        if self.server is not None:
            self.server.terminate()

    def shutdown(self) -> None:
        """Stop the workers, then stop the embedded server gracefully.

        The supervisor keeps restarting a dead server until the workers
        stopped, because they hand back their unstarted jobs through it.
        """
        if self.pool is not None:
            self.pool.stop(WORKER_STOP_TIMEOUT)
        if self.supervisor is not None:
            self.supervisor.stop()
        if self.queue is not None:
            self.queue.client.close()
        if self.server is not None:
            self.server.stop()
