"""Box folder paths: split them, resolve them to ids and create missing folders."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from box_sdk_gen import BoxAPIError, BoxClient
from box_sdk_gen.managers.folders import CreateFolderParent

from sentinel.box._errors import BoxItemNotFoundError, BoxPathError

logger = logging.getLogger(__name__)

ROOT_FOLDER_ID = "0"
PAGE_SIZE = 1000
_ITEM_FIELDS = ["type", "id", "name", "etag", "sha1", "size", "file_version"]


def split_path(path: str) -> list[str]:
    """Split a Box folder path such as ``/Sentinel/Inbox`` into folder names.

    Empty segments are ignored, so ``""`` and ``"/"`` name the root folder.
    """
    if "\\" in path:
        raise BoxPathError(
            f"Box path {path!r} contains a backslash; separate folders with '/'"
        )
    names = [name for name in path.split("/") if name]
    for name in names:
        if name in {".", ".."} or name != name.rstrip(" "):
            raise BoxPathError(
                f"Box path {path!r} has the invalid folder name {name!r}; Box "
                "rejects '.', '..' and names with trailing spaces"
            )
    return names


def join_path(*parts: str) -> str:
    """Join path parts into one absolute Box path such as ``/a/b/c``."""
    names: list[str] = []
    for part in parts:
        names.extend(split_path(part))
    return "/" + "/".join(names)


def iter_items(client: BoxClient, folder_id: str) -> Iterator[Any]:
    """Yield every item of a folder, fetching pages of up to PAGE_SIZE items."""
    offset = 0
    while True:
        page = client.folders.get_folder_items(
            folder_id, fields=_ITEM_FIELDS, offset=offset, limit=PAGE_SIZE
        )
        entries = page.entries or []
        yield from entries
        offset += len(entries)
        if not entries or offset >= (page.total_count or 0):
            return


def find_item(
    client: BoxClient, folder_id: str, name: str, kind: str | None = None
) -> Any | None:
    """Return the item named ``name`` in a folder, or None.

    Box compares names without regard to case, so this does too.
    """
    wanted = name.lower()
    for item in iter_items(client, folder_id):
        if str(item.name).lower() == wanted:
            if kind is not None and _kind(item) != kind:
                return None
            return item
    return None


def find_file(client: BoxClient, folder_id: str, name: str) -> Any | None:
    """Return the file named ``name`` in a folder, or None."""
    return find_item(client, folder_id, name, "file")


def _kind(item: Any) -> str:
    kind = item.type
    return str(getattr(kind, "value", kind))


def resolve_folder(client: BoxClient, path: str) -> str:
    """Return the id of the folder at ``path``, which must exist."""
    folder_id = ROOT_FOLDER_ID
    for name in split_path(path):
        item = find_item(client, folder_id, name)
        if item is None or _kind(item) != "folder":
            raise BoxItemNotFoundError(
                f"Box folder {path!r} does not exist: no folder {name!r} in folder "
                f"{folder_id}; check the path or create it"
            )
        folder_id = str(item.id)
    return folder_id


def ensure_folder(client: BoxClient, path: str) -> str:
    """Return the id of the folder at ``path``, creating missing folders."""
    folder_id = ROOT_FOLDER_ID
    for name in split_path(path):
        item = find_item(client, folder_id, name)
        if item is None:
            folder_id = _create_child(client, folder_id, name, path)
        elif _kind(item) == "folder":
            folder_id = str(item.id)
        else:
            raise _blocked(path, name, folder_id)
    return folder_id


def _create_child(client: BoxClient, parent_id: str, name: str, path: str) -> str:
    try:
        folder = client.folders.create_folder(name, CreateFolderParent(id=parent_id))
    except BoxAPIError as error:
        if error.response_info.code != "item_name_in_use":
            raise
        # Another worker created the folder between the lookup and the create:
        # Box names the winner in the conflict, so use it.
        conflict = first_conflict(error.response_info.context_info)
        if conflict is None or conflict.get("type") != "folder":
            raise _blocked(path, name, parent_id) from error
        logger.debug("%s: folder %r was created concurrently", conflict["id"], name)
        return str(conflict["id"])
    logger.info("%s: created Box folder %r in folder %s", folder.id, name, parent_id)
    return str(folder.id)


def first_conflict(context_info: Any) -> dict[str, Any] | None:
    """Return the conflicting item of a 409 error, sent as a list or an object."""
    conflicts = (context_info or {}).get("conflicts")
    if isinstance(conflicts, list):
        conflicts = conflicts[0] if conflicts else None
    return conflicts if isinstance(conflicts, dict) else None


def _blocked(path: str, name: str, parent_id: str) -> BoxPathError:
    return BoxPathError(
        f"cannot create Box folder path {path!r}: a file named {name!r} in folder "
        f"{parent_id} is in the way; rename or move that file"
    )
