"""Box folder paths: resolve them to ids and back, create them, page through items."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from box_sdk_gen import BoxAPIError, BoxClient
from box_sdk_gen.managers.folders import CreateFolderParent

from sentinel.box._errors import BoxItemNotFoundError, BoxPathError

logger = logging.getLogger(__name__)

ROOT_FOLDER_ID = "0"
PAGE_SIZE = 1000
SEARCH_PAGE_SIZE = 200
ITEM_FIELDS = ["type", "id", "name", "etag", "sha1", "size", "file_version"]
# Entries older than this are read again: other clients may move or delete
# items without this process hearing about it.
DEFAULT_CACHE_SECONDS = 300.0


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


def _key(path: str) -> str:
    # Box compares names without regard to case, so the cache does too.
    return join_path(path).lower()


class PathCache:
    """Folder ids by path, thread-safe, with entries that expire.

    Helpers that create, move or delete folders call ``invalidate`` with the
    path they changed, which drops it and everything below it.
    """

    def __init__(
        self,
        seconds: float = DEFAULT_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ids: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> str | None:
        """Return the cached folder id of ``path``, or None."""
        key = _key(path)
        if key == "/":
            return ROOT_FOLDER_ID
        with self._lock:
            entry = self._ids.get(key)
            if entry is None:
                return None
            if self._clock() - entry[1] > self.seconds:
                del self._ids[key]
                return None
            return entry[0]

    def put(self, path: str, folder_id: str) -> None:
        """Remember that ``path`` is the folder ``folder_id``."""
        with self._lock:
            self._ids[_key(path)] = (folder_id, self._clock())

    def invalidate(self, path: str) -> None:
        """Forget ``path`` and every path below it."""
        key = _key(path)
        prefix = key.rstrip("/") + "/"
        with self._lock:
            for known in [k for k in self._ids if k == key or k.startswith(prefix)]:
                del self._ids[known]

    def invalidate_id(self, folder_id: str) -> None:
        """Forget the paths of folder ``folder_id`` and everything below them."""
        with self._lock:
            paths = [k for k, (v, _) in self._ids.items() if v == folder_id]
        for path in paths:
            self.invalidate(path)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._ids.clear()


_CACHES: dict[tuple[str, str, str], PathCache] = {}
_CACHES_LOCK = threading.Lock()


def cache_for(client: BoxClient) -> PathCache:
    """Return this process's path cache for the account and user ``client`` uses.

    Clients built for the same API URL, user and As-User share one cache, so
    a folder resolved by one task is known to the next.
    """
    session = client.network_session
    subject = str(getattr(session.network_client, "subject", ""))
    as_user = str(session.additional_headers.get("As-User", ""))
    key = (session.base_urls.base_url, subject, as_user)
    with _CACHES_LOCK:
        cache = _CACHES.get(key)
        if cache is None:
            cache = _CACHES[key] = PathCache()
        return cache


def iter_items(
    client: BoxClient,
    folder_id: str,
    *,
    fields: list[str] | None = None,
    page_size: int = PAGE_SIZE,
) -> Iterator[Any]:
    """Yield every item of a folder, fetching pages with Box's marker paging.

    Marker paging stays correct while items are added or removed between
    pages, where offset paging would skip or repeat some.
    """
    marker: str | None = None
    while True:
        page = client.folders.get_folder_items(
            folder_id,
            fields=fields or ITEM_FIELDS,
            usemarker=True,
            marker=marker,
            limit=page_size,
        )
        entries = page.entries or []
        yield from entries
        marker = getattr(page, "next_marker", None)
        if not entries or not marker:
            return


def iter_search(
    client: BoxClient,
    query: str,
    *,
    ancestor_folder_ids: list[str] | None = None,
    kind: str | None = None,
    fields: list[str] | None = None,
    page_size: int = SEARCH_PAGE_SIZE,
) -> Iterator[Any]:
    """Yield every search result for ``query``, page after page."""
    from box_sdk_gen.managers.search import SearchForContentType

    content_type = SearchForContentType(kind) if kind else None
    offset = 0
    while True:
        page = client.search.search_for_content(
            query=query,
            ancestor_folder_ids=ancestor_folder_ids,
            type=content_type,
            fields=fields or ITEM_FIELDS,
            offset=offset,
            limit=page_size,
        )
        entries = getattr(page, "entries", None) or []
        yield from entries
        offset += len(entries)
        total = getattr(page, "total_count", None) or 0
        if not entries or offset >= total:
            return


def item_kind(item: Any) -> str:
    """Return an item's type as text: ``file``, ``folder`` or ``web_link``."""
    kind = item.type
    return str(getattr(kind, "value", kind))


def find_item(
    client: BoxClient, folder_id: str, name: str, kind: str | None = None
) -> Any | None:
    """Return the item named ``name`` in a folder, or None.

    Box compares names without regard to case, so this does too. With
    ``kind`` set, an item of another type counts as absent.
    """
    wanted = name.lower()
    for item in iter_items(client, folder_id):
        if str(item.name).lower() == wanted:
            if kind is not None and item_kind(item) != kind:
                return None
            return item
    return None


def find_file(client: BoxClient, folder_id: str, name: str) -> Any | None:
    """Return the file named ``name`` in a folder, or None."""
    return find_item(client, folder_id, name, "file")


def resolve_folder(
    client: BoxClient, path: str, *, cache: PathCache | None = None
) -> str:
    """Return the id of the folder at ``path``, which must exist."""
    return _walk(client, path, create=False, cache=cache)


def ensure_folder(
    client: BoxClient, path: str, *, cache: PathCache | None = None
) -> str:
    """Return the id of the folder at ``path``, creating missing folders."""
    return _walk(client, path, create=True, cache=cache)


def _walk(
    client: BoxClient, path: str, *, create: bool, cache: PathCache | None
) -> str:
    names = split_path(path)
    cache = cache or cache_for(client)
    cached = cache.get(path)
    if cached is not None:
        return cached
    folder_id = ROOT_FOLDER_ID
    for depth, name in enumerate(names, 1):
        here = "/" + "/".join(names[:depth])
        known = cache.get(here)
        if known is not None:
            folder_id = known
            continue
        item = find_item(client, folder_id, name)
        if item is None and create:
            folder_id = _create_child(client, folder_id, name, path)
        elif item is not None and item_kind(item) == "folder":
            folder_id = str(item.id)
        elif item is None:
            raise BoxItemNotFoundError(
                f"Box folder {path!r} does not exist: no folder {name!r} in folder "
                f"{folder_id}; check the path or create it"
            )
        else:
            raise _blocked(path, name, folder_id)
        cache.put(here, folder_id)
    return folder_id


def forget_folder(client: BoxClient, folder_id: str) -> None:
    """Drop a folder from the cache after Box reported it missing."""
    cache_for(client).invalidate_id(folder_id)


def folder_path(client: BoxClient, folder_id: str) -> str:
    """Return the path of folder ``folder_id``, such as ``/Sentinel/Inbox``."""
    if folder_id == ROOT_FOLDER_ID:
        return "/"
    folder = client.folders.get_folder_by_id(
        folder_id, fields=["name", "path_collection"]
    )
    return _path_from(folder)


def file_path(client: BoxClient, file_id: str) -> str:
    """Return the path of file ``file_id``, such as ``/Sentinel/Inbox/a.csv``."""
    item = client.files.get_file_by_id(file_id, fields=["name", "path_collection"])
    return _path_from(item)


def _path_from(item: Any) -> str:
    collection = getattr(item, "path_collection", None)
    entries = getattr(collection, "entries", None) or []
    # The first entry is the root folder, "All Files", which has id 0.
    names = [str(entry.name) for entry in entries if str(entry.id) != ROOT_FOLDER_ID]
    return join_path(*names, str(item.name))


def delete_folder(
    client: BoxClient,
    path: str,
    *,
    recursive: bool = False,
    cache: PathCache | None = None,
) -> None:
    """Delete the folder at ``path`` (with its content when ``recursive``)."""
    folder_id = resolve_folder(client, path, cache=cache)
    if folder_id == ROOT_FOLDER_ID:
        raise BoxPathError("refusing to delete the root folder '/'")
    client.folders.delete_folder_by_id(folder_id, recursive=recursive)
    (cache or cache_for(client)).invalidate(path)


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
