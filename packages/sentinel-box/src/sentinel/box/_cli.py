"""The ``sentinel box`` commands: whoami, ls, upload, download, sync and emulator."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from sentinel.box._emulator._command import emulator_command
from sentinel.box._settings import box_settings

# Transfers of this many bytes or more show a progress bar.
PROGRESS_BYTES = 8 * 1024 * 1024
_BAR_STEPS = 1000


def _config_section(name: str) -> dict[str, Any]:
    state = click.get_current_context().find_root().obj
    config = getattr(state, "config", None)
    if config is None:
        return {}
    return dict(config.section(name) or {})


def _box_section() -> dict[str, Any]:
    return box_settings(_config_section("box"))


def _client() -> Any:
    from box_sdk_gen import BoxSDKError

    from sentinel.box._client import make_client
    from sentinel.box._errors import BoxError

    try:
        return make_client(
            _box_section(), redis_url=_config_section("queue").get("url")
        )
    except (BoxError, BoxSDKError) as error:
        raise click.ClickException(str(error)) from error


@contextmanager
def _box_errors() -> Iterator[None]:
    from box_sdk_gen import BoxAPIError, BoxSDKError

    from sentinel.box._errors import BoxError

    try:
        yield
    except BoxError as error:
        raise click.ClickException(str(error)) from error
    except BoxAPIError as error:
        info = error.response_info
        message = (info.body or {}).get("message", "") or error.message
        raise click.ClickException(
            f"Box returned {info.status_code} {info.code or ''}: {message}"
        ) from None
    except BoxSDKError as error:
        raise click.ClickException(f"the Box request failed: {error.message}") from None


def _emit(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


@contextmanager
def _progress(label: str, show: bool) -> Iterator[Callable[[float, str], None] | None]:
    if not show:
        yield None
        return
    with click.progressbar(length=_BAR_STEPS, label=label, file=sys.stderr) as bar:
        done = 0

        def report(fraction: float, message: str) -> None:
            nonlocal done
            del message
            target = max(0, min(_BAR_STEPS, int(fraction * _BAR_STEPS)))
            if target > done:
                bar.update(target - done)
                done = target

        yield report
        if done < _BAR_STEPS:
            bar.update(_BAR_STEPS - done)


@click.group("box")
def box() -> None:
    """Work with Box: check access, list, upload, download, sync, emulate."""


box.add_command(emulator_command)

_json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON."
)
_conflict_option = click.option(
    "--on-conflict",
    type=click.Choice(["overwrite", "rename", "skip"]),
    default=None,
    help="When a file of that name has other content [default: box.on_conflict].",
)


@box.command("whoami")
@_json_option
def whoami_command(as_json: bool) -> None:
    """Show the Box user that the configured credentials act as."""
    client = _client()
    with _box_errors():
        user = client.users.get_user_me()
    if as_json:
        _emit({"id": user.id, "name": user.name, "login": user.login})
    else:
        click.echo(f"{user.name} <{user.login}> (user {user.id})")


@box.command("ls")
@click.argument("path", default="/")
@_json_option
def ls_command(path: str, as_json: bool) -> None:
    """List the items of the Box folder at PATH, such as /Sentinel/Inbox."""
    from sentinel.box._paths import item_kind, iter_items, resolve_folder

    client = _client()
    rows = []
    with _box_errors():
        folder_id = resolve_folder(client, path)
        for item in iter_items(client, folder_id):
            rows.append(
                {
                    "type": item_kind(item),
                    "id": str(item.id),
                    "name": str(item.name),
                    "size": getattr(item, "size", None),
                    "sha1": getattr(item, "sha_1", None),
                }
            )
    if as_json:
        _emit(rows)
        return
    for row in rows:
        if row["type"] == "folder":
            click.echo(f"folder {row['id']:>12} {'-':>12} {row['name']}/")
        else:
            click.echo(
                f"{row['type']:<6} {row['id']:>12} {row['size'] or 0:>12} {row['name']}"
            )


@box.command("upload")
@click.argument("local", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("folder", default="/")
@click.option("--name", default=None, help="Name in Box [default: the local name].")
@_conflict_option
@_json_option
def upload_command(
    local: Path, folder: str, name: str | None, on_conflict: str | None, as_json: bool
) -> None:
    """Upload the file LOCAL into the Box folder path FOLDER (created if missing).

    A file of the same name and content is skipped; big files go up in parts
    and resume where an interrupted upload stopped.
    """
    from sentinel.box._upload import UploadOptions, upload_file

    box = _box_section()
    client = _client()
    show = not as_json and local.stat().st_size >= PROGRESS_BYTES
    with _box_errors(), _progress(f"Uploading {local.name}", show) as report:
        options = UploadOptions(
            on_conflict=on_conflict or str(box["on_conflict"]),
            chunked_threshold=int(box["chunked_threshold"]),
            sessions_dir=Path(".sentinel/box-sessions"),
        )
        if report is not None:
            options.progress = report
        result = upload_file(client, local, folder, name, options=options)
    if as_json:
        _emit(result.to_dict())
    else:
        click.echo(f"{result.action} {result.box_path} (file {result.file_id})")


@box.command("download")
@click.argument("source")
# The destination stays a string, because Path drops the trailing separator
# that makes "dl/" name a folder.
@click.argument("destination", type=click.Path(), default=".")
@click.option("--id", "by_id", is_flag=True, help="SOURCE is a file id, not a path.")
@_json_option
def download_command(source: str, destination: str, by_id: bool, as_json: bool) -> None:
    """Download the Box file SOURCE (a path such as /Sentinel/a.csv) to DESTINATION.

    A DESTINATION that is a folder, or that ends in / and so names one,
    receives the file under its Box name. A missing folder is created. The
    SHA-1 of the content is checked against Box's before the file is put in
    place, and a local file with the same content is left alone.
    """
    from sentinel.box._download import download_file, resolve_file

    client = _client()
    with _box_errors():
        file_id = source if by_id else resolve_file(client, source)
        size = int(client.files.get_file_by_id(file_id, fields=["size"]).size or 0)
        show = not as_json and size >= PROGRESS_BYTES
        with _progress(f"Downloading {source}", show) as report:
            try:
                result = download_file(
                    client,
                    file_id,
                    destination,
                    progress=report or (lambda fraction, message: None),
                )
            except NotADirectoryError as error:
                raise click.ClickException(str(error)) from error
    if as_json:
        _emit(result.to_dict())
    else:
        click.echo(f"{result.action} {result.path} (file {result.file_id})")


@box.command("sync")
@click.argument("local", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("folder")
@click.option("--delete", is_flag=True, help="Delete Box items absent locally.")
@_conflict_option
@_json_option
def sync_command(
    local: Path, folder: str, delete: bool, on_conflict: str | None, as_json: bool
) -> None:
    """Mirror the local folder LOCAL into the Box folder path FOLDER."""
    from sentinel.box._sync import sync_folder
    from sentinel.box._upload import UploadOptions

    box = _box_section()
    client = _client()
    options = UploadOptions(
        on_conflict=on_conflict or str(box["on_conflict"]),
        chunked_threshold=int(box["chunked_threshold"]),
        sessions_dir=Path(".sentinel/box-sessions"),
    )
    with _box_errors(), _progress(f"Syncing {local}", not as_json) as report:
        result = sync_folder(
            client, local, folder, delete=delete, options=options, progress=report
        )
    summary = result.to_dict()
    if as_json:
        _emit(summary)
        return
    counts = summary["counts"]
    click.echo(", ".join(f"{count} {name}" for name, count in counts.items()))
