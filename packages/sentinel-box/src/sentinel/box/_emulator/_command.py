"""The ``sentinel box emulator`` command: serve a folder as a Box account."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click


def _section() -> dict[str, Any]:
    from sentinel.box._settings import box_settings

    state = click.get_current_context().find_root().obj
    config = getattr(state, "config", None)
    return box_settings(None if config is None else config.section("box"))


def _limits(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    limits = {}
    for pair in pairs:
        kind, sep, limit = pair.partition("=")
        if not sep:
            raise click.BadParameter(
                f"{pair!r}: write CLASS=LIMIT such as upload=20/s", param_hint=option
            )
        limits[kind.strip()] = limit.strip()
    return limits


@click.command("emulator")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to serve as the Box account [default: box.emulator.root].",
)
@click.option("--host", default=None, help="Address to bind [default: 127.0.0.1].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="TCP port from 0 to 65535, where 0 picks a free one.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="YAML or JSON file of emulator settings (limits, tokens, part size...).",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=None,
    help="Delay added to each request, in seconds.",
)
@click.option(
    "--limit",
    "limits",
    multiple=True,
    help="Per-user limit as CLASS=LIMIT, such as upload=20/s; repeatable.",
)
@click.option(
    "--enterprise-limit",
    "enterprise_limits",
    multiple=True,
    help="Account-wide limit as CLASS=LIMIT, such as search=12/s; repeatable.",
)
@click.option("--box-limits", is_flag=True, help="Enforce Box's published rate limits.")
@click.option(
    "--token",
    "tokens",
    multiple=True,
    help="Accept only this developer token; repeatable [default: accept any].",
)
def emulator_command(
    *,
    root: Path | None,
    host: str | None,
    port: int | None,
    config_file: Path | None,
    latency: float | None,
    limits: tuple[str, ...],
    enterprise_limits: tuple[str, ...],
    box_limits: bool,
    tokens: tuple[str, ...],
) -> None:
    """Serve a local folder as a Box account until interrupted."""
    from sentinel.box._emulator._config import (
        BOX_ENTERPRISE_LIMITS,
        BOX_USER_LIMITS,
        EmulatorConfig,
        load_config,
    )
    from sentinel.box._emulator._server import BoxEmulator
    from sentinel.box._errors import BoxError

    settings = _section()["emulator"]
    try:
        config = load_config(config_file) if config_file else EmulatorConfig()
        changes: dict[str, Any] = {}
        if box_limits:
            changes["user_limits"] = dict(BOX_USER_LIMITS)
            changes["enterprise_limits"] = dict(BOX_ENTERPRISE_LIMITS)
        if limits:
            changes["user_limits"] = _limits(limits, "--limit")
        if enterprise_limits:
            changes["enterprise_limits"] = _limits(
                enterprise_limits, "--enterprise-limit"
            )
        if tokens:
            changes["tokens"] = list(tokens)
        if latency is not None:
            changes["latency"] = latency
        config = config.updated(**changes)
        emulator = BoxEmulator(
            root or Path(settings["root"]),
            host or settings["host"],
            settings["port"] if port is None else port,
            config=config,
        ).start()
    except BoxError as error:
        raise click.ClickException(str(error)) from error
    _announce(emulator)
    _serve_until_signal()
    emulator.stop()
    click.echo("Box emulator stopped")


def _announce(emulator: Any) -> None:
    click.echo(f"Box emulator serving {emulator.store.root} at {emulator.url}")
    for kind, limit in emulator.config.user_limits.items():
        click.echo(f"  limit per user: {kind} {limit.requests}/{limit.seconds:g}s")
    for kind, limit in emulator.config.enterprise_limits.items():
        click.echo(f"  limit per account: {kind} {limit.requests}/{limit.seconds:g}s")
    click.echo("Point sentinel at it with these environment variables:")
    click.echo(f"  SENTINEL__BOX__API_URL={emulator.api_url}")
    click.echo(f"  SENTINEL__BOX__UPLOAD_URL={emulator.upload_url}")
    click.echo(f"  SENTINEL__BOX__OAUTH_URL={emulator.oauth_url}")
    token = _accepted_token(emulator.config.tokens)
    if token is None:
        click.echo(
            "  No developer token is accepted, because the tokens list is empty."
        )
    else:
        # The token goes to stdout as an instruction for the user who chose it,
        # never to a log record.
        click.echo(f"  SENTINEL__BOX__AUTH__DEVELOPER_TOKEN={token}")
    # A pipe buffers stdout, and whoever started the emulator waits for the URL.
    sys.stdout.flush()


def _accepted_token(tokens: list[str] | None) -> str | None:
    """Return a developer token the emulator accepts, or None if it accepts none.

    None for ``tokens`` means the emulator accepts any token, so the label
    ``EMULATOR_TOKEN`` works. Otherwise the first listed token is returned.
    """
    from sentinel.box._settings import EMULATOR_TOKEN

    if tokens is None:
        return EMULATOR_TOKEN
    return tokens[0] if tokens else None


def _serve_until_signal() -> None:
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    previous = {
        sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
