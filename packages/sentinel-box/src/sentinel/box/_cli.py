"""The ``sentinel box`` commands: run the emulator, show the user, list a folder."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from sentinel.box._settings import box_settings


def _box_section() -> dict[str, Any]:
    state = click.get_current_context().find_root().obj
    config = getattr(state, "config", None)
    if config is None:
        return box_settings(None)
    return box_settings(config.section("box"))


def _client() -> Any:
    from box_sdk_gen import BoxSDKError

    from sentinel.box._client import make_client
    from sentinel.box._errors import BoxError

    try:
        return make_client(_box_section())
    except (BoxError, BoxSDKError) as error:
        raise click.ClickException(str(error)) from error


@click.group("box")
def box() -> None:
    """Work with Box: run the local emulator, check access, list folders."""


@box.command("emulator")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to serve as the Box account [default: box.emulator.root].",
)
@click.option("--host", default=None, help="Address to bind [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port; 0 picks a free one.")
@click.option(
    "--latency", type=float, default=0.0, help="Delay added to each request, in s."
)
def emulator_command(
    root: Path | None, host: str | None, port: int | None, latency: float
) -> None:
    """Serve a local folder as a Box account until interrupted."""
    from sentinel.box._emulator import BoxEmulator
    from sentinel.box._errors import BoxError
    from sentinel.box._settings import EMULATOR_TOKEN

    settings = _box_section()["emulator"]
    emulator = BoxEmulator(
        root or Path(settings["root"]),
        host or settings["host"],
        settings["port"] if port is None else port,
        latency=latency,
    )
    try:
        emulator.start()
    except BoxError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Box emulator serving {emulator.store.root} at {emulator.url}")
    click.echo("Point sentinel at it with these environment variables:")
    click.echo(f"  SENTINEL__BOX__API_URL={emulator.api_url}")
    click.echo(f"  SENTINEL__BOX__AUTH__DEVELOPER_TOKEN={EMULATOR_TOKEN}")
    # A pipe buffers stdout, and whoever started the emulator waits for the URL.
    sys.stdout.flush()
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
        emulator.stop()
        click.echo("Box emulator stopped")


@box.command("whoami")
def whoami_command() -> None:
    """Show the Box user that the configured credentials act as."""
    from box_sdk_gen import BoxSDKError

    client = _client()
    try:
        user = client.users.get_user_me()
    except BoxSDKError as error:
        raise click.ClickException(
            f"Box rejected the request: {error.message}"
        ) from None
    click.echo(f"{user.name} <{user.login}> (user {user.id})")


@box.command("ls")
@click.argument("path", default="/")
def ls_command(path: str) -> None:
    """List the items of the Box folder at PATH, such as /Sentinel/Inbox."""
    from box_sdk_gen import BoxSDKError

    from sentinel.box._errors import BoxError
    from sentinel.box._paths import iter_items, resolve_folder

    client = _client()
    try:
        folder_id = resolve_folder(client, path)
        for item in iter_items(client, folder_id):
            kind = str(getattr(item.type, "value", item.type))
            if kind == "folder":
                click.echo(f"folder {item.id:>12} {'-':>12} {item.name}/")
            else:
                click.echo(f"{kind:<6} {item.id:>12} {item.size or 0:>12} {item.name}")
    except BoxError as error:
        raise click.ClickException(str(error)) from error
    except BoxSDKError as error:
        raise click.ClickException(
            f"Box rejected the request: {error.message}"
        ) from None
