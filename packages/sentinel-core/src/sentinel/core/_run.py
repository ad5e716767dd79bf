"""``sentinel run``: the folder lock, the phases, signals and the idle warning."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
from pathlib import Path
from types import FrameType
from typing import TextIO

import click

from sentinel.core._agent import Agent
from sentinel.core._errors import SentinelError

logger = logging.getLogger(__name__)


def install_signal_handlers(agent: Agent) -> None:
    """Stop on SIGINT or SIGTERM; a second signal exits at once."""

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if agent.stop_event.is_set():
            # A second signal: the user wants out now; leases bring jobs back.
            os._exit(130)
        agent.request_stop(f"received {name}")

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


# Held with flock by the running agent, and containing its pid. The kernel
# drops the lock when the process ends, so a crashed agent leaves none.
LOCK_FILE_NAME = "agent.lock"


def try_lock(path: Path) -> TextIO | None:
    """Lock ``path`` with flock, write this process's pid into it and return it open.

    Returns None when another open file holds the lock. The lock lasts until
    the returned file is closed or the process exits. Child processes do not
    inherit it, because Python opens files as non-inheritable.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Opened without truncation, so a failed attempt keeps the holder's pid.
    lock_file = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        return None
    lock_file.seek(0)
    lock_file.truncate()
    lock_file.write(f"{os.getpid()}\n")
    lock_file.flush()
    return lock_file


def read_lock_holder(path: Path) -> str:
    """Return the pid written into the lock file ``path``, or ``unknown``."""
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


def lock_state_dir(state_dir: Path) -> TextIO:
    """Lock ``state_dir`` for this process and return the open lock file.

    Raises :class:`SentinelError` naming the folder and the pid of the agent
    that holds the lock. The lock lasts until the returned file is closed or
    the process exits.
    """
    path = state_dir / LOCK_FILE_NAME
    lock_file = try_lock(path)
    if lock_file is None:
        holder = read_lock_holder(path)
        raise SentinelError(
            f"another sentinel run (pid {holder}) is already running in "
            f"{state_dir.parent} and holds {path}; two agents in one folder "
            f"would share its queue data and inbox. Stop that agent first, or "
            f"start this one in another folder"
        )
    return lock_file


# Services through which a run does visible work: without either, nothing
# feeds the queue and nothing shows its state.
WORK_SERVICES = {"files": "files", "web": "web"}


def run_agent(agent: Agent) -> int:
    """Start every plugin, wait for a stop request, shut down; return the exit code.

    The code is 1 when the folder is locked by another agent, when start-up
    fails, or when a plugin stopped the agent with ``request_stop(error=True)``.
    """
    try:
        lock_file = lock_state_dir(agent.state_dir)
    except (SentinelError, OSError) as exc:
        logger.error("start-up failed: %s", exc)
        return 1
    with lock_file:
        started = _run_phases(agent)
    if agent.failure is not None:
        logger.error("stopped after an error: %s", agent.failure)
        return 1
    logger.info("stopped")
    return 0 if started else 1


def _run_phases(agent: Agent) -> bool:
    """Run the phases and wait for a stop request; return whether start-up succeeded."""
    started = False
    try:
        _call_phase(agent, "sentinel_startup")
        _call_phase(agent, "sentinel_ready")
        started = True
        _warn_if_idle(agent)
        click.echo("sentinel is running; press Ctrl-C to stop", err=True)
        while not agent.stop_event.wait(0.5):
            pass
    except SentinelError as exc:
        logger.error("start-up failed: %s", exc)
    finally:
        _call_phase(agent, "sentinel_shutdown", stop_on_error=False)
    return started


def _warn_if_idle(agent: Agent) -> None:
    missing = [
        extra
        for service, extra in WORK_SERVICES.items()
        if not agent.has_service(service)
    ]
    if len(missing) < len(WORK_SERVICES):
        return
    extras = ",".join(missing)
    logger.warning(
        "no installed plugin watches folders or serves the dashboard, so this run "
        "does nothing; install them with pip install 'sentinel-core[%s]' (from "
        "local wheels: pip install --no-index --find-links DIR "
        "'sentinel-core[%s]') or check 'sentinel plugins' for disabled or failed "
        "ones",
        extras,
        extras,
    )


def _call_phase(agent: Agent, hook_name: str, *, stop_on_error: bool = True) -> None:
    """Call one phase's hooks in pluggy order (tryfirst and trylast respected)."""
    caller = getattr(agent.host.pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        logger.debug("%s: %s", impl.plugin_name, hook_name)
        try:
            impl.function(agent=agent)
        except SentinelError as exc:
            # A SentinelError already says what went wrong and what to do.
            if stop_on_error:
                raise SentinelError(
                    f"plugin {impl.plugin_name!r} failed in {hook_name}: {exc}"
                ) from None
            logger.error("plugin %s failed in %s: %s", impl.plugin_name, hook_name, exc)
        except Exception as exc:
            logger.exception("plugin %s failed in %s", impl.plugin_name, hook_name)
            if stop_on_error:
                raise SentinelError(
                    f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
