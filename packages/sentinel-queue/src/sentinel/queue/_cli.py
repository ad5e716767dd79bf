"""The ``sentinel queue`` command group: workers, enqueue and status."""

from __future__ import annotations

import difflib
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import click

from sentinel.core import QUEUE_TASK, Config, ConfigError, PluginHost, bootstrap
from sentinel.queue._connect import check_connection
from sentinel.queue._cron import Schedule, Scheduler
from sentinel.queue._errors import QueueError, ServerNotFoundError
from sentinel.queue._outcome import default_worker_name, escape_control
from sentinel.queue._pool import PARENT_PID_ENV, WorkerPool, worker_command
from sentinel.queue._queue import LISTED_STATES, PURGED_STATES, Queue
from sentinel.queue._server import find_running_server
from sentinel.queue._threads import MAX_THREADS, WorkerThreads, threads_setting
from sentinel.queue._worker import (
    BATCH_SECONDS,
    DEFAULT_GRACE_SECONDS,
    FETCH_LINGER,
    Worker,
)

logger = logging.getLogger(__name__)


def _load() -> tuple[PluginHost, Config, Any]:
    """Return the host, config and CLI state of this command."""
    state = click.get_current_context().obj
    if state is None or not hasattr(state, "host"):
        # Run without the sentinel CLI, whose group turns errors into messages.
        try:
            host, config = bootstrap()
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        return host, config, None
    return state.host, state.config, state


def server_url(section: dict[str, Any]) -> str:
    """Return ``queue.url``, or the URL of the running agent's embedded server.

    With ``queue.url`` null, ``sentinel run`` in this folder records its
    embedded server in ``queue.data_dir``. A command run beside it uses that
    server while its pid is alive and the server reports that pid.
    """
    url = section.get("url")
    if url:
        return str(url)
    data_dir = Path.cwd() / str(section.get("data_dir"))
    try:
        return find_running_server(data_dir)
    except ServerNotFoundError as exc:
        raise click.ClickException(
            f"queue.url is not set and {exc}; start 'sentinel run' in this folder "
            f"to use its embedded server, or set queue.url in the config or "
            f"SENTINEL__QUEUE__URL=redis://127.0.0.1:6379/0"
        ) from exc


def _queue(config: Config, name: str | None) -> Queue:
    """Return the configured queue after checking that its server answers.

    Every problem becomes one :class:`click.ClickException` naming the URL
    (password redacted) and the fix, never a traceback.
    """
    section = dict(config.section("queue"))
    if name:
        section["name"] = name
    url = server_url(section)
    try:
        queue = Queue.from_config(section, url)
        check_connection(queue.client, url)
    except QueueError as exc:
        raise click.ClickException(str(exc)) from exc
    return queue


class FiniteFloatRange(click.FloatRange):
    """A :class:`click.FloatRange` that also rejects nan, inf and -inf."""

    name = "finite float range"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        number = super().convert(value, param, ctx)
        # nan passes every range check, because each comparison with it is false.
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def _parse_queues(values: tuple[str, ...]) -> tuple[list[str], list[float]]:
    """Split ``name[:weight]`` options into names and weights."""
    names, weights = [], []
    for value in values:
        name, _, weight = value.partition(":")
        try:
            parsed = float(weight) if weight else 1.0
        except ValueError:
            parsed = -1.0
        if not name or not (math.isfinite(parsed) and parsed > 0):
            raise click.BadParameter(
                f"{value!r} is not NAME or NAME:WEIGHT with a finite positive weight",
                param_hint="--queue",
            )
        names.append(name)
        weights.append(parsed)
    return names, weights


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
@click.option(
    "--threads",
    type=click.IntRange(min=1, max=MAX_THREADS),
    default=None,
    help="Jobs that each worker process runs at a time, one thread each "
    "(default: queue.threads).",
)
@click.option(
    "--queue",
    "queue_names",
    multiple=True,
    help="Queue name, or NAME:WEIGHT; repeat to serve several (default: queue.name).",
)
def worker(
    workers: int | None, threads: int | None, queue_names: tuple[str, ...]
) -> None:
    """Run workers until SIGTERM or Ctrl-C; a second signal exits at once."""
    host, config, state = _load()
    _configure_logging(host, config, state)
    section = config.section("queue")
    count = workers or int(section.get("workers") or 1)
    try:
        thread_count = threads or threads_setting(section.get("threads"))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if count > 1:
        _run_pool(config, state, count, queue_names, threads)
        return
    names, weights = _parse_queues(queue_names)
    queues = [_queue(config, name) for name in names] or [_queue(config, None)]
    parent = os.environ.get(PARENT_PID_ENV)
    schedules = [Schedule.from_mapping(item) for item in section.get("schedules") or []]
    scheduler = Scheduler(queues[0], schedules) if schedules else None
    base_name = default_worker_name()

    def make_worker(index: int) -> Worker:
        return Worker(
            queues,
            host.registry,
            config=config.values,
            name=f"{base_name}-t{index + 1}" if thread_count > 1 else base_name,
            retry_backoff=float(section.get("retry_backoff", 1.0)),
            parent_pid=int(parent) if parent else None,
            weights=weights or None,
            grace_seconds=float(section.get("shutdown_grace") or DEFAULT_GRACE_SECONDS),
            on_abandon=lambda: os._exit(1),
            # Only one loop runs the schedules, so a due job is enqueued once.
            scheduler=scheduler if index == 0 else None,
            exact_attempts=bool(section.get("exact_attempts", True)),
            fetch_linger=float(section.get("fetch_linger", FETCH_LINGER)),
            batch_seconds=BATCH_SECONDS / thread_count,
        )

    if thread_count == 1:
        # One loop runs in the main thread, where a job timeout interrupts
        # even a blocking call (the interrupt is a signal there).
        runner = make_worker(0)
        _install_signal_handlers(runner)
        runner.run()
        return
    threaded = WorkerThreads(make_worker, thread_count)
    _install_signal_handlers(threaded)
    status = threaded.run()
    if status:
        # A job that outlived the grace period still runs in a thread that
        # cannot be stopped, so the process exits without waiting for it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _configure_logging(host: PluginHost, config: Config, state: Any) -> None:
    from sentinel.core import configure_logging

    verbosity = int(getattr(state, "verbose", 0) or 0)
    configure_logging(config.section("logging"), host.registry, verbosity)


class _Stoppable(Protocol):
    """A worker loop, or the loops of one process, that a signal stops."""

    @property
    def name(self) -> str: ...

    @property
    def stopping(self) -> bool: ...

    def stop(self) -> None: ...

    def stop_now(self) -> None: ...


def _install_signal_handlers(runner: _Stoppable) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if runner.stopping:
            logger.warning("worker %s: second %s; exiting at once", runner.name, name)
            # The lease of the running job brings it back if this fails.
            threading.Thread(target=runner.stop_now, daemon=True).start()
            time.sleep(0.2)
            os._exit(128 + signum)
        logger.info(
            "worker %s: %s received; handing back unstarted jobs and stopping "
            "after the running ones",
            runner.name,
            name,
        )
        runner.stop()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _run_pool(
    config: Config,
    state: Any,
    count: int,
    queue_names: tuple[str, ...],
    threads: int | None,
) -> None:
    env = getattr(state, "env", None) or config.env
    path = getattr(state, "config_path", None) or config.path
    # Without --threads the worker processes read queue.threads themselves.
    command = worker_command(env=env, config_path=path, threads=threads)
    for name in queue_names:
        command += ["--queue", name]
    pool = WorkerPool(command, count)
    stopping: list[str] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        stopping.append(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    pool.start()
    while not stopping:
        signal.pause()
    logger.info("%s received; stopping %d worker processes", stopping[0], count)
    stopper = threading.Thread(target=pool.stop, daemon=True)
    stopper.start()
    while stopper.is_alive():
        stopper.join(0.1)
        if len(stopping) > 1:
            logger.warning(
                "second %s: stopping the workers at once; leases bring their jobs back",
                stopping[1],
            )
            pool.kill()
            break


@group.command()
@click.argument("task")
@click.option("--payload", default="{}", help="Job payload as a JSON object.")
@click.option(
    "--max-retries", type=click.IntRange(min=0), help="Retries after a failure."
)
@click.option("--unique-key", help="Skip when an unfinished job holds this key.")
@click.option("--priority", type=int, default=0, help="Higher runs first (default 0).")
@click.option(
    "--delay",
    type=FiniteFloatRange(min=0),
    default=0.0,
    help="Seconds to wait before the job may run (default 0).",
)
@click.option(
    "--timeout",
    type=FiniteFloatRange(min=0, min_open=True),
    help="Seconds that each attempt may run.",
)
@click.option("--queue", "queue_name", help="Queue name (default: queue.name).")
@click.option(
    "--force",
    is_flag=True,
    help="Enqueue even if TASK is not registered here, for a task that only the "
    "workers of other machines provide.",
)
def enqueue(  # noqa: PLR0917 - click passes one argument per option
    task: str,
    payload: str,
    max_retries: int | None,
    unique_key: str | None,
    priority: int,
    delay: float,
    timeout: float | None,
    queue_name: str | None,
    force: bool,
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
    host, config, _ = _load()
    if not force:
        check_task_registered(task, host.registry.names(QUEUE_TASK))
    queue = _queue(config, queue_name)
    try:
        job_id = queue.enqueue(
            task,
            data,
            max_retries=max_retries,
            unique_key=unique_key,
            priority=priority,
            delay=delay,
            timeout=timeout,
        )
    except QueueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(job_id)


def check_task_registered(task: str, registered: list[str]) -> None:
    """Raise a usage error when no installed plugin registers ``task``."""
    if task in registered:
        return
    close = difflib.get_close_matches(task, registered, n=3)
    if close:
        suggestion = f"did you mean {' or '.join(repr(name) for name in close)}?"
    else:
        suggestion = f"registered tasks: {', '.join(sorted(registered)) or 'none'}"
    raise click.BadParameter(
        f"task {task!r} is not registered by any installed plugin, so a worker "
        f"here would fail it ({suggestion}); pass --force if the workers of "
        f"another machine provide it",
        param_hint="TASK",
    )


@group.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--queue", "queue_name", help="Queue name (default: queue.name).")
@click.option("--failed", "failed_limit", default=5, help="Recent failures to show.")
@click.option("--active", "active_limit", default=10, help="Running jobs to show.")
def status(
    as_json: bool, queue_name: str | None, failed_limit: int, active_limit: int
) -> None:
    """Print job counts by state, the running jobs and the latest failures.

    The counts of jobs stored now drop when finished jobs expire or are
    purged. The totals of finished jobs count every job since the queue was
    created.
    """
    _, config, _ = _load()
    queue = _queue(config, queue_name)
    counts = queue.state_counts()
    active = queue.recent("active", active_limit)
    failed = queue.recent("failed", failed_limit)
    if as_json:
        report = {
            "queue": queue.name,
            # Kept for scripts that read it: like Queue.counts(), totals ever
            # for the finished states.
            "counts": counts["now"] | counts["ever"],
            "now": counts["now"],
            "ever": counts["ever"],
            "active": active,
            "recent_failed": failed,
        }
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"queue {queue.name}")
    click.echo("jobs stored now:")
    _echo_counts(counts["now"])
    click.echo("jobs finished since the queue was created:")
    _echo_counts(counts["ever"])
    for job in active:
        click.echo(
            f"active {job['id']} {escape_control(job['task'])} on "
            f"{escape_control(str(job['worker']))}, attempt "
            f"{job['attempts']}/{job['max_attempts']}"
        )
    for job in failed:
        task = escape_control(job["task"])
        error = escape_control(str(job["error"]))
        click.echo(f"failed {job['id']} {task}: {error}")
    sys.stdout.flush()


def _echo_counts(counts: dict[str, int]) -> None:
    width = max(len(name) for name in LISTED_STATES)
    for state_name, count in counts.items():
        click.echo(f"  {state_name:<{width}}  {count}")


@group.command()
@click.option(
    "--state",
    type=click.Choice(LISTED_STATES),
    default="queued",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.option("--queue", "queue_name", help="Queue name (default: queue.name).")
def jobs(
    state: str, limit: int, page: int, as_json: bool, queue_name: str | None
) -> None:
    """List the jobs in one state, one page at a time."""
    _, config, _ = _load()
    queue = _queue(config, queue_name)
    records = queue.jobs(state, limit, (page - 1) * limit)
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    for job in records:
        detail = escape_control(job["error"] or "")
        task = escape_control(job["task"])
        click.echo(
            f"{job['id']}  {job['state']:<9} {task:<24} "
            f"attempts {job['attempts']}/{job['max_attempts']}  {detail}".rstrip()
        )
    if not records:
        click.echo(f"no {state} jobs on page {page}")


@group.command()
@click.argument("job_ids", nargs=-1, required=True)
@click.option("--queue", "queue_name", help="Queue name (default: queue.name).")
def requeue(job_ids: tuple[str, ...], queue_name: str | None) -> None:
    """Queue failed or cancelled jobs again, with fresh attempts."""
    _, config, _ = _load()
    queue = _queue(config, queue_name)
    missing = [job_id for job_id in job_ids if not queue.requeue(job_id)]
    for job_id in job_ids:
        if job_id not in missing:
            click.echo(f"requeued {job_id}")
    if missing:
        raise click.ClickException(
            f"not failed or cancelled (or unknown): {', '.join(missing)}; "
            f"list them with 'sentinel queue jobs --state failed'"
        )


@group.command()
@click.argument("job_ids", nargs=-1, required=True)
@click.option("--queue", "queue_name", help="Queue name (default: queue.name).")
def cancel(job_ids: tuple[str, ...], queue_name: str | None) -> None:
    """Cancel queued, delayed or running jobs; exit 1 if any id is unknown."""
    _, config, _ = _load()
    queue = _queue(config, queue_name)
    unknown = []
    for job_id in job_ids:
        outcome = queue.cancel(job_id)
        click.echo(f"{job_id} {outcome}")
        if outcome == "unknown":
            unknown.append(job_id)
    if unknown:
        raise click.ClickException(
            f"job not found: {', '.join(unknown)}; the other jobs were handled. "
            f"List job ids with 'sentinel queue jobs --state STATE'"
        )


@group.command()
@click.argument("state", type=click.Choice(PURGED_STATES))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--queue", "queue_name", help="Queue name (default: queue.name).")
def purge(state: str, yes: bool, queue_name: str | None) -> None:
    """Delete every job in STATE."""
    _, config, _ = _load()
    queue = _queue(config, queue_name)
    if not yes:
        click.confirm(f"delete every {state} job of queue {queue.name}?", abort=True)
    total = 0
    while removed := queue.purge(state):
        total += removed
    click.echo(f"deleted {total} {state} {'job' if total == 1 else 'jobs'}")
