"""The ``sentinel queue`` command group: workers, enqueue and status."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from types import FrameType
from typing import Any

import click

from sentinel.core import Config, PluginHost, bootstrap
from sentinel.queue._errors import QueueConfigError
from sentinel.queue._pool import PARENT_PID_ENV, WorkerPool, worker_command
from sentinel.queue._queue import Queue
from sentinel.queue._worker import Worker

logger = logging.getLogger(__name__)


def _load() -> tuple[PluginHost, Config, Any]:
    """Return the host, config and CLI state of this command."""
    state = click.get_current_context().obj
    if state is None or not hasattr(state, "host"):
        host, config = bootstrap()
        return host, config, None
    return state.host, state.config, state


def _queue(config: Config, name: str | None) -> Queue:
    section = dict(config.section("queue"))
    if name:
        section["name"] = name
    if not section.get("url"):
        raise QueueConfigError(
            "queue.url is not set; set it in the config or with "
            "SENTINEL__QUEUE__URL=redis://127.0.0.1:6379/0, or let "
            "'sentinel run' start the embedded server and the workers"
        )
    return Queue.from_config(section)


@click.group("queue")
def group() -> None:
    """Run queue workers and inspect the job queue."""


@group.command()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Number of worker processes (default: queue.workers).",
)
@click.option("--queue", "queue_name", help="Queue name (default: queue.name).")
def worker(workers: int | None, queue_name: str | None) -> None:
    """Run workers until SIGTERM or Ctrl-C; a second signal exits at once."""
    host, config, state = _load()
    _configure_logging(host, config, state)
    section = config.section("queue")
    count = workers or int(section.get("workers") or 1)
    if count > 1:
        _run_pool(config, state, count, queue_name)
        return
    queue = _queue(config, queue_name)
    parent = os.environ.get(PARENT_PID_ENV)
    runner = Worker(
        queue,
        host.registry,
        config=config.values,
        retry_backoff=float(section.get("retry_backoff", 1.0)),
        parent_pid=int(parent) if parent else None,
    )
    _install_signal_handlers(runner)
    runner.run()


def _configure_logging(host: PluginHost, config: Config, state: Any) -> None:
    from sentinel.core import configure_logging

    verbosity = int(getattr(state, "verbose", 0) or 0)
    configure_logging(config.section("logging"), host.registry, verbosity)


def _install_signal_handlers(runner: Worker) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if runner.stopping:
            logger.warning("worker %s: second %s; exiting at once", runner.name, name)
            # The lease of the running job brings it back to the queue.
            os._exit(128 + signum)
        logger.info(
            "worker %s: %s received; stopping after the current job", runner.name, name
        )
        runner.stop()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _run_pool(config: Config, state: Any, count: int, queue_name: str | None) -> None:
    env = getattr(state, "env", None) or config.env
    path = getattr(state, "config_path", None) or config.path
    pool = WorkerPool(
        worker_command(env=env, config_path=path, queue=queue_name), count
    )
    stopping: list[str] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        stopping.append(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    pool.start()
    while not stopping:
        signal.pause()
    logger.info("%s received; stopping %d worker processes", stopping[0], count)
    pool.stop()


@group.command()
@click.argument("task")
@click.option("--payload", default="{}", help="Job payload as a JSON object.")
@click.option(
    "--max-retries", type=click.IntRange(min=0), help="Retries after a failure."
)
@click.option("--unique-key", help="Skip when an unfinished job holds this key.")
@click.option("--queue", "queue_name", help="Queue name (default: queue.name).")
def enqueue(
    task: str,
    payload: str,
    max_retries: int | None,
    unique_key: str | None,
    queue_name: str | None,
) -> None:
    """Enqueue a job for TASK and print its id."""
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"not valid JSON: {exc}", param_hint="--payload"
        ) from exc
    if not isinstance(data, dict):
        raise click.BadParameter(
            f"expected a JSON object, got {type(data).__name__}", param_hint="--payload"
        )
    _, config, _ = _load()
    queue = _queue(config, queue_name)
    click.echo(
        queue.enqueue(task, data, max_retries=max_retries, unique_key=unique_key)
    )


@group.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--queue", "queue_name", help="Queue name (default: queue.name).")
@click.option("--failed", "failed_limit", default=5, help="Recent failures to show.")
def status(as_json: bool, queue_name: str | None, failed_limit: int) -> None:
    """Print job counts by state and the most recent failures."""
    _, config, _ = _load()
    queue = _queue(config, queue_name)
    counts = queue.counts()
    failed = queue.recent("failed", failed_limit)
    if as_json:
        report = {"queue": queue.name, "counts": counts, "recent_failed": failed}
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"queue {queue.name}")
    for state_name, count in counts.items():
        click.echo(f"  {state_name:<8} {count}")
    for job in failed:
        click.echo(f"failed {job['id']} {job['task']}: {job['error']}")
    sys.stdout.flush()
