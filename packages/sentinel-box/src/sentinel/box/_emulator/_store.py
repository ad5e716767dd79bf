"""The Box emulator's item tree: files on disk plus ids and versions in JSON."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sentinel.box._errors import BoxError, EmulatorApiError

logger = logging.getLogger(__name__)

ROOT_ID = "0"
ROOT_NAME = "All Files"
# Kept inside the served folder so one directory holds the whole account; the
# name is reserved in the root folder so no Box item can shadow it.
META_DIRNAME = ".box-emulator"
METADATA_VERSION = 1
MAX_NAME_LENGTH = 255
_HASH_CHUNK = 1024 * 1024


def now_iso() -> str:
    """Return the current time in the ISO 8601 form that Box uses."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha1_of_file(path: Path) -> str:
    """Compute the SHA-1 hex digest of a file, reading it in chunks."""
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(slots=True)
class Item:
    """One file or folder of the emulated account, as kept in the metadata file."""

    type: str
    id: str
    name: str
    parent_id: str | None
    created_at: str
    modified_at: str
    content_created_at: str
    content_modified_at: str
    etag: int = 0
    sequence_id: int = 0
    sha1: str = ""
    size: int = 0
    version_id: str = ""
    version_number: int = 1
    # Earlier versions of a file: dicts with id, sha1, size and created_at.
    old_versions: list[dict[str, Any]] = field(default_factory=list)
    # Size and mtime seen on disk, to notice files edited behind the emulator.
    disk_size: int = 0
    disk_mtime_ns: int = 0

    @property
    def is_folder(self) -> bool:
        """Whether this item is a folder."""
        return self.type == "folder"


_ITEM_FIELDS = tuple(item.name for item in fields(Item))


def _item_record(item: Item) -> dict[str, Any]:
    # A shallow copy is enough (only old_versions is mutable, and it is
    # copied) and much faster than dataclasses.asdict on large trees.
    record = {name: getattr(item, name) for name in _ITEM_FIELDS}
    record["old_versions"] = [dict(version) for version in item.old_versions]
    return record


def not_found(kind: str, item_id: str) -> EmulatorApiError:
    """Build Box's 404 error for a missing file or folder."""
    return EmulatorApiError(
        404,
        "not_found",
        "Not Found",
        {
            "errors": [
                {
                    "reason": "invalid_parameter",
                    "name": kind,
                    "message": f"Invalid value '{item_id}'. "
                    f"'{kind}' with value '{item_id}' not found",
                }
            ]
        },
    )


def check_name(name: object, parent_id: str) -> str:
    """Validate an item name by Box's rules and return it."""
    if not isinstance(name, str) or not name:
        raise EmulatorApiError(
            400, "bad_request", "Item name is missing; send a non-empty 'name'"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise EmulatorApiError(
            400,
            "item_name_too_long",
            f"Item name is longer than {MAX_NAME_LENGTH} characters",
        )
    invalid = (
        name in {".", ".."}
        or "/" in name
        or "\\" in name
        or name != name.rstrip(" ")
        or any(ord(char) < 32 or ord(char) == 127 for char in name)
    )
    if invalid:
        raise EmulatorApiError(
            400,
            "item_name_invalid",
            f"Item name {name!r} is invalid: Box rejects '.', '..', slashes, "
            "trailing spaces and control characters",
        )
    if parent_id == ROOT_ID and name.lower() == META_DIRNAME:
        raise EmulatorApiError(
            400,
            "item_name_invalid",
            f"Item name {name!r} is reserved by the emulator for its metadata",
        )
    return name


def check_etag(item: Item, if_match: str | None) -> None:
    """Raise Box's 412 error when ``if_match`` is not the item's current etag."""
    if if_match is not None and if_match != str(item.etag):
        raise EmulatorApiError(
            412,
            "precondition_failed",
            f"The resource has been modified: etag {if_match!r} is stale, the "
            f"current etag is {str(item.etag)!r}",
        )


class EmulatorStore:
    """The item tree of the emulated Box account, persisted under ``root``.

    File content lives at the item's path under ``root``, so the tree can be
    browsed with ordinary tools. Ids, etags, SHA-1s and versions live in
    ``root/.box-emulator/metadata.json``, rewritten atomically on each change,
    and replaced content is kept under ``root/.box-emulator/versions``. Files
    added, changed or removed on disk while the emulator was stopped are
    picked up when the store opens.
    """

    def __init__(
        self, root: Path, *, durable: bool = True, save_delay: float = 0.0
    ) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.durable = durable
        self.save_delay = save_delay
        self._save_lock = threading.Lock()
        self._dirty = False
        self._timer: threading.Timer | None = None
        self._meta_dir = self.root / META_DIRNAME
        self._versions_dir = self._meta_dir / "versions"
        self._tmp_dir = self._meta_dir / "tmp"
        self._metadata_file = self._meta_dir / "metadata.json"
        for folder in (self._meta_dir, self._versions_dir, self._tmp_dir):
            folder.mkdir(exist_ok=True)
        # Reentrant because public methods call each other while holding it.
        self._lock = threading.RLock()
        self._items: dict[str, Item] = {}
        self._children: dict[str, dict[str, str]] = {}
        self._next_id = 1000
        self._load()
        self._reconcile()
        self._save()

    @property
    def meta_dir(self) -> Path:
        """The folder that holds the metadata, old versions and temporary files."""
        return self._meta_dir

    # -- reading -----------------------------------------------------------

    def all_items(self) -> list[Item]:
        """Return every file and folder except the root, in id order."""
        with self._lock:
            items = [item for item in self._items.values() if item.id != ROOT_ID]
        return sorted(items, key=lambda item: int(item.id))

    def get(self, item_id: str, kind: str | None = None) -> Item:
        """Return the item ``item_id``, optionally requiring a type."""
        with self._lock:
            item = self._items.get(item_id)
            if item is None or (kind is not None and item.type != kind):
                raise not_found(kind or "item", item_id)
            return item

    def children(self, folder_id: str) -> list[Item]:
        """Return the items directly inside a folder, unsorted."""
        with self._lock:
            self.get(folder_id, "folder")
            ids = self._children.get(folder_id, {}).values()
            return [self._items[child_id] for child_id in ids]

    def find_child(self, folder_id: str, name: str) -> Item | None:
        """Return the item named ``name`` in a folder, ignoring case like Box."""
        with self._lock:
            child_id = self._children.get(folder_id, {}).get(name.lower())
            return None if child_id is None else self._items[child_id]

    def ancestors(self, item: Item) -> list[Item]:
        """Return the folders above ``item``, starting at the root."""
        with self._lock:
            chain = []
            parent_id = item.parent_id
            while parent_id is not None:
                parent = self._items[parent_id]
                chain.append(parent)
                parent_id = parent.parent_id
            chain.reverse()
            return chain

    def disk_path(self, item: Item) -> Path:
        """Return where the item lives on disk."""
        names = [ancestor.name for ancestor in self.ancestors(item)[1:]]
        if item.id != ROOT_ID:
            names.append(item.name)
        return self.root.joinpath(*names)

    def folder_size(self, folder: Item) -> int:
        """Sum the sizes of every file below a folder."""
        with self._lock:
            total = 0
            for child in self.children(folder.id):
                total += self.folder_size(child) if child.is_folder else child.size
            return total

    def content_path(self, file_id: str, version_id: str | None = None) -> Path:
        """Return the disk path of a file's current or earlier version."""
        with self._lock:
            item = self.get(file_id, "file")
            if version_id in (None, "", item.version_id):
                return self.disk_path(item)
            known = {version["id"] for version in item.old_versions}
            path = self._versions_dir / str(version_id)
            if version_id not in known or not path.is_file():
                raise not_found("file_version", str(version_id))
            return path

    # -- changing ----------------------------------------------------------

    def create_folder(self, parent_id: str, name: object) -> Item:
        """Create an empty folder, raising Box's 409 error on a name in use."""
        with self._lock:
            parent = self.get(parent_id, "folder")
            checked = check_name(name, parent.id)
            self._check_free(parent.id, checked)
            item = self._new_item("folder", checked, parent.id)
            self.disk_path(item).mkdir()
            self._add(item)
            self._touch(parent)
            self._save()
            logger.info(
                "%s: created folder %r in folder %s", item.id, checked, parent.id
            )
            return item

    def temp_upload(self) -> Path:
        """Return a fresh temporary path on the same file system as the tree."""
        handle, name = tempfile.mkstemp(dir=self._tmp_dir, prefix="upload-")
        os.close(handle)
        return Path(name)

    def add_file(
        self,
        parent_id: str,
        name: object,
        upload: Path,
        *,
        sha1: str,
        size: int,
        content_times: tuple[str | None, str | None] = (None, None),
    ) -> Item:
        """Move an uploaded temporary file into the tree as a new file."""
        with self._lock:
            parent = self.get(parent_id, "folder")
            checked = check_name(name, parent.id)
            self._check_free(parent.id, checked)
            item = self._new_item("file", checked, parent.id)
            item.content_created_at = content_times[0] or item.created_at
            item.content_modified_at = content_times[1] or item.created_at
            item.sha1, item.size = sha1, size
            item.version_id = self._allocate_id()
            target = self.disk_path(item)
            os.replace(upload, target)
            self._record_disk_state(item, target)
            self._add(item)
            self._touch(parent)
            self._save()
            logger.info(
                "%s: uploaded file %r to folder %s", item.id, checked, parent.id
            )
            return item

    def add_version(
        self,
        file_id: str,
        upload: Path,
        sha1: str,
        size: int,
        *,
        new_name: object = None,
        if_match: str | None = None,
        content_modified_at: str | None = None,
    ) -> Item:
        """Replace a file's content, keeping the previous content as a version."""
        with self._lock:
            item = self.get(file_id, "file")
            check_etag(item, if_match)
            current = self.disk_path(item)
            name = item.name
            if new_name is not None and new_name != item.name:
                name = check_name(new_name, str(item.parent_id))
                self._check_free(str(item.parent_id), name, allow_id=item.id)

            os.replace(current, self._versions_dir / item.version_id)
            item.old_versions.append(
                {
                    "id": item.version_id,
                    "sha1": item.sha1,
                    "size": item.size,
                    "created_at": item.modified_at,
                }
            )
            self._rename(item, name)
            os.replace(upload, self.disk_path(item))

            item.version_id = self._allocate_id()
            item.version_number += 1
            item.sha1, item.size = sha1, size
            item.content_modified_at = content_modified_at or now_iso()
            self._touch(item)
            self._record_disk_state(item, self.disk_path(item))
            self._save()
            logger.info(
                "%s: uploaded version %d of %r", item.id, item.version_number, name
            )
            return item

    def delete_file(self, file_id: str, if_match: str | None = None) -> None:
        """Delete a file and its earlier versions for good."""
        with self._lock:
            item = self.get(file_id, "file")
            check_etag(item, if_match)
            self.disk_path(item).unlink(missing_ok=True)
            self._forget(item)
            self._save()
            logger.info("%s: deleted file %r", item.id, item.name)

    def delete_folder(
        self, folder_id: str, *, recursive: bool, if_match: str | None = None
    ) -> None:
        """Delete a folder; a non-empty one only when ``recursive`` is set."""
        with self._lock:
            item = self.get(folder_id, "folder")
            if item.id == ROOT_ID:
                raise EmulatorApiError(
                    403,
                    "access_denied_insufficient_permissions",
                    "The root folder cannot be deleted",
                )
            check_etag(item, if_match)
            if self._children.get(item.id) and not recursive:
                raise EmulatorApiError(
                    400,
                    "folder_not_empty",
                    f"Folder {item.id} is not empty; pass recursive=true to delete "
                    "it with its content",
                )
            shutil.rmtree(self.disk_path(item), ignore_errors=True)
            self._forget(item)
            self._save()
            logger.info("%s: deleted folder %r", item.id, item.name)

    # -- internals ---------------------------------------------------------

    def _allocate_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _new_item(self, kind: str, name: str, parent_id: str | None) -> Item:
        stamp = now_iso()
        item_id = ROOT_ID if parent_id is None else self._allocate_id()
        return Item(kind, item_id, name, parent_id, stamp, stamp, stamp, stamp)

    def _check_free(self, parent_id: str, name: str, allow_id: str = "") -> None:
        existing = self.find_child(parent_id, name)
        if existing is None or existing.id == allow_id:
            return
        raise EmulatorApiError(
            409,
            "item_name_in_use",
            "Item with the same name already exists",
            {"conflicts": existing},
        )

    def _add(self, item: Item) -> None:
        self._items[item.id] = item
        if item.parent_id is not None:
            siblings = self._children.setdefault(item.parent_id, {})
            siblings[item.name.lower()] = item.id

    def _rename(self, item: Item, name: str) -> None:
        if name == item.name:
            return
        siblings = self._children[str(item.parent_id)]
        del siblings[item.name.lower()]
        item.name = name
        siblings[name.lower()] = item.id

    def _forget(self, item: Item) -> None:
        for child_id in list(self._children.get(item.id, {}).values()):
            self._forget(self._items[child_id])
        self._children.pop(item.id, None)
        for version in item.old_versions:
            (self._versions_dir / version["id"]).unlink(missing_ok=True)
        if item.parent_id is not None:
            parent = self._items[item.parent_id]
            self._children[parent.id].pop(item.name.lower(), None)
            self._touch(parent)
        del self._items[item.id]

    def _touch(self, item: Item) -> None:
        if item.id != ROOT_ID:
            item.etag += 1
            item.sequence_id += 1
        item.modified_at = now_iso()

    @staticmethod
    def _record_disk_state(item: Item, path: Path) -> None:
        stat = path.stat()
        item.disk_size, item.disk_mtime_ns = stat.st_size, stat.st_mtime_ns

    def _load(self) -> None:
        if not self._metadata_file.is_file():
            self._add(self._new_item("folder", ROOT_NAME, None))
            return
        try:
            data = json.loads(self._metadata_file.read_text("utf-8"))
            items = [Item(**entry) for entry in data["items"]]
            next_id = int(data["next_id"])
        except (ValueError, KeyError, TypeError) as error:
            raise BoxError(
                f"emulator metadata {self._metadata_file} is unreadable ({error}); "
                "delete it to rebuild the ids from the files on disk"
            ) from error
        self._next_id = next_id
        for item in items:
            self._add(item)

    def _save(self) -> None:
        """Schedule a metadata write; changes within ``save_delay`` share one.

        Writing the whole tree on every change costs time in proportion to
        the number of items, which would make a busy emulator slow down as it
        fills, so writes are gathered. ``flush`` writes at once.
        """
        with self._save_lock:
            self._dirty = True
            if self.save_delay > 0:
                if self._timer is None:
                    self._timer = threading.Timer(self.save_delay, self.flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self.flush()

    def flush(self) -> None:
        """Write pending metadata changes to disk now."""
        # Always the tree lock first, then the save lock, as in _save, so
        # the delayed writer and request threads cannot deadlock.
        with self._lock:
            with self._save_lock:
                self._timer = None
                if not self._dirty:
                    return
                self._dirty = False
            self._write(
                {
                    "version": METADATA_VERSION,
                    "next_id": self._next_id,
                    "items": [_item_record(item) for item in self._items.values()],
                }
            )

    def close(self) -> None:
        """Write pending changes and stop the delayed writer."""
        with self._save_lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self.flush()

    def _write(self, data: dict[str, Any]) -> None:
        handle, name = tempfile.mkstemp(dir=self._meta_dir, prefix="metadata-")
        # Write, sync and rename so a crash leaves the old file or the new one.
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, separators=(",", ":"))
            if self.durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(name, self._metadata_file)

    def _reconcile(self) -> None:
        for item in list(self._items.values()):
            if item.id in self._items and item.id != ROOT_ID:
                path = self.disk_path(item)
                exists = path.is_dir() if item.is_folder else path.is_file()
                if not exists or path.is_symlink():
                    logger.info(
                        "%s: %s is gone from disk, forgetting it", item.id, path
                    )
                    self._forget(item)
        self._scan_folder(self._items[ROOT_ID])
        for leftover in self._tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)

    def _scan_folder(self, folder: Item) -> None:
        for entry in self._disk_entries(folder):
            kind = "folder" if entry.is_dir() else "file"
            existing = self.find_child(folder.id, entry.name)
            if existing is not None and existing.type != kind:
                logger.warning(
                    "%s: %s changed type on disk, skipping it", existing.id, entry
                )
                continue
            if existing is None:
                existing = self._new_item(kind, entry.name, folder.id)
                self._add(existing)
                if kind == "file":
                    self._adopt_file(existing, entry)
            elif kind == "file":
                self._refresh_file(existing, entry)
            if kind == "folder":
                self._scan_folder(existing)

    def _disk_entries(self, folder: Item) -> Iterator[Path]:
        seen: set[str] = set()
        for entry in sorted(self.disk_path(folder).iterdir()):
            # Symlinks could point outside the served folder, so they are not served.
            if entry.is_symlink() or not (entry.is_dir() or entry.is_file()):
                continue
            try:
                check_name(entry.name, folder.id)
            except EmulatorApiError:
                continue
            if entry.name.lower() in seen:
                logger.warning(
                    "%s: skipping %s, its name differs only in case", folder.id, entry
                )
                continue
            seen.add(entry.name.lower())
            yield entry

    def _adopt_file(self, item: Item, path: Path) -> None:
        item.sha1 = sha1_of_file(path)
        item.size = path.stat().st_size
        item.version_id = self._allocate_id()
        self._record_disk_state(item, path)

    def _refresh_file(self, item: Item, path: Path) -> None:
        stat = path.stat()
        if (stat.st_size, stat.st_mtime_ns) == (item.disk_size, item.disk_mtime_ns):
            return
        # The earlier content is gone, so the version is listed without content.
        item.old_versions.append(
            {
                "id": item.version_id,
                "sha1": item.sha1,
                "size": item.size,
                "created_at": item.modified_at,
            }
        )
        item.version_number += 1
        self._adopt_file(item, path)
        self._touch(item)
