"""JSON representations of users, files, folders and errors as Box sends them."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from typing import Any

from sentinel.box._emulator._store import ROOT_ID, EmulatorStore, Item

USER_ID = "10000001"
USER_NAME = "Sentinel Emulator"
USER_LOGIN = "emulator@sentinel.invalid"
ENTERPRISE_ID = "20000001"
HELP_URL = "https://developer.box.com/guides/api-calls/permissions-and-errors/"
# Mini representations are what Box returns inside collections and references.
_MINI_KEYS = {
    "file": ("type", "id", "etag", "sequence_id", "name", "sha1", "file_version"),
    "folder": ("type", "id", "etag", "sequence_id", "name"),
}
_ALWAYS_KEYS = ("type", "id", "etag")


def user_mini(user_id: str = USER_ID) -> dict[str, Any]:
    """Return an emulated user as a mini user."""
    if user_id == USER_ID:
        return {"type": "user", "id": USER_ID, "name": USER_NAME, "login": USER_LOGIN}
    # Other users (As-User, JWT user tokens, the service account) are named by id.
    return {
        "type": "user",
        "id": user_id,
        "name": f"Emulated User {user_id}",
        "login": f"user-{user_id}@sentinel.invalid",
    }


def user_full(space_used: int, user_id: str = USER_ID) -> dict[str, Any]:
    """Return an emulated user as ``GET /2.0/users/me`` does."""
    return {
        **user_mini(user_id),
        "created_at": "2024-01-01T00:00:00+00:00",
        "modified_at": "2024-01-01T00:00:00+00:00",
        "language": "en",
        "timezone": "UTC",
        "space_amount": 10 * 1024**4,
        "space_used": space_used,
        "max_upload_size": 50 * 1024**3,
        "status": "active",
        "job_title": "",
        "phone": "",
        "address": "",
        "avatar_url": "",
        "role": "admin",
        "enterprise": {"type": "enterprise", "id": ENTERPRISE_ID, "name": "Emulator"},
    }


def _etag(item: Item) -> str | None:
    return None if item.id == ROOT_ID else str(item.etag)


def _sequence(item: Item) -> str | None:
    return None if item.id == ROOT_ID else str(item.sequence_id)


def _base(item: Item) -> dict[str, Any]:
    return {
        "type": item.type,
        "id": item.id,
        "etag": _etag(item),
        "sequence_id": _sequence(item),
        "name": item.name,
    }


def file_version(item: Item) -> dict[str, Any]:
    """Return a file's current version as a mini file version."""
    return {"type": "file_version", "id": item.version_id, "sha1": item.sha1}


def mini(item: Item) -> dict[str, Any]:
    """Return the mini representation of a file or folder."""
    shape = _base(item)
    if not item.is_folder:
        shape["sha1"] = item.sha1
        shape["file_version"] = file_version(item)
    return shape


def full(store: EmulatorStore, item: Item) -> dict[str, Any]:
    """Return the full representation of a file or folder."""
    ancestors = store.ancestors(item)
    parent = mini(ancestors[-1]) if ancestors else None
    shape = {
        **mini(item),
        "description": "",
        "size": store.folder_size(item) if item.is_folder else item.size,
        "path_collection": {
            "total_count": len(ancestors),
            "entries": [mini(ancestor) for ancestor in ancestors],
        },
        "created_at": item.created_at,
        "modified_at": item.modified_at,
        "trashed_at": None,
        "purged_at": None,
        "content_created_at": item.content_created_at,
        "content_modified_at": item.content_modified_at,
        "created_by": user_mini(),
        "modified_by": user_mini(),
        "owned_by": user_mini(),
        "shared_link": None,
        "parent": parent,
        "item_status": "active",
    }
    if item.is_folder:
        shape["folder_upload_email"] = None
        shape["item_collection"] = items_page(store, item, offset=0, limit=100)
    else:
        shape["version_number"] = str(item.version_number)
        shape["extension"] = item.name.rpartition(".")[2] if "." in item.name else ""
        shape["comment_count"] = 0
    return shape


def select(
    store: EmulatorStore, item: Item, fields: Collection[str] | None
) -> dict[str, Any]:
    """Return the full shape, or the mini shape plus the requested ``fields``.

    Box answers a request with ``fields`` with only the mini representation's
    keys and the named ones, so clients get what they asked for and no more.
    """
    if fields is None:
        return full(store, item)
    complete = full(store, item)
    keys = [*_ALWAYS_KEYS, *_MINI_KEYS[item.type], *fields]
    return {key: complete[key] for key in dict.fromkeys(keys) if key in complete}


def sort_key(item: Item, sort: str) -> tuple[Any, ...]:
    """Return the key that orders folder items by ``sort``, folders first."""
    type_rank = 0 if item.is_folder else 1
    if sort == "id":
        return (type_rank, int(item.id))
    if sort == "date":
        return (type_rank, item.modified_at, item.name.lower())
    if sort == "size":
        return (type_rank, item.size, item.name.lower())
    return (type_rank, item.name.lower())


def items_page(
    store: EmulatorStore,
    folder: Item,
    *,
    offset: int,
    limit: int,
    fields: Collection[str] | None = None,
    sort: str = "name",
    direction: str = "ASC",
) -> dict[str, Any]:
    """Return one offset-paged page of a folder's items."""
    children = sorted(
        store.children(folder.id),
        key=lambda child: sort_key(child, sort),
        reverse=direction == "DESC",
    )
    page = children[offset : offset + limit]
    return {
        "total_count": len(children),
        "offset": offset,
        "limit": limit,
        "order": [
            {"by": "type", "direction": "ASC"},
            {"by": sort, "direction": direction},
        ],
        "entries": [entry_shape(store, child, fields) for child in page],
    }


def entry_shape(
    store: EmulatorStore, item: Item, fields: Collection[str] | None
) -> dict[str, Any]:
    """Return a collection entry: the mini shape unless ``fields`` asks for more."""
    if fields is None:
        return mini(item)
    return select(store, item, fields)


def error_body(
    status: int, code: str, message: str, context_info: dict[str, Any] | None
) -> dict[str, Any]:
    """Build a Box error object."""
    return {
        "type": "error",
        "status": status,
        "code": code,
        "message": message,
        "context_info": context_info,
        "help_url": HELP_URL,
        "request_id": secrets.token_hex(8),
    }
