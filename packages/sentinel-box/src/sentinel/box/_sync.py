"""Mirror a local folder into a Box folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from box_sdk_gen import BoxClient

from sentinel.box._paths import (
    cache_for,
    ensure_folder,
    item_kind,
    iter_items,
    join_path,
)
from sentinel.box._upload import UploadOptions, file_sha1, upload_to_folder

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


@dataclass(slots=True)
class SyncReport:
    """Counts and paths of what a mirror run did."""

    uploaded: list[str] = field(default_factory=list)
    new_version: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    folders: int = 0
    bytes_sent: int = 0

    def record(self, action: str, box_path: str, size: int) -> None:
        """Note one file's outcome."""
        getattr(self, action).append(box_path)
        if action != "skipped":
            self.bytes_sent += size

    def to_dict(self) -> dict[str, Any]:
        """Return counts and paths as a JSON-serialisable mapping."""
        lists = ("uploaded", "new_version", "renamed", "skipped", "deleted")
        counts = {name: len(getattr(self, name)) for name in lists}
        return {
            "counts": counts,
            "folders": self.folders,
            "bytes_sent": self.bytes_sent,
            **{name: getattr(self, name) for name in lists},
        }


def _local_tree(root: Path) -> Iterator[tuple[Path, list[str], list[str]]]:
    for current, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        here = Path(current)
        # Symbolic links are not followed: they may point outside the tree.
        dirs[:] = [name for name in dirs if not (here / name).is_symlink()]
        regular = sorted(
            name
            for name in files
            if (here / name).is_file() and not (here / name).is_symlink()
        )
        yield here, dirs, regular


def sync_folder(
    client: BoxClient,
    local: Path,
    box_folder: str,
    *,
    delete: bool = False,
    options: UploadOptions | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Make the Box folder ``box_folder`` hold what the local folder ``local`` holds.

    Missing folders are created, new files uploaded, changed files handled
    by ``options.on_conflict`` (a new version by default) and identical
    ones skipped. With ``delete``, Box items that have no local counterpart
    are deleted; without it they stay.
    """
    options = options or UploadOptions()
    report = SyncReport()
    total = sum(len(files) for _, _, files in _local_tree(local)) or 1
    done = 0
    for here, dirs, files in _local_tree(local):
        relative = here.relative_to(local)
        folder = join_path(box_folder, *relative.parts)
        folder_id = ensure_folder(client, folder)
        report.folders += 1
        items = {str(item.name).lower(): item for item in iter_items(client, folder_id)}
        for name in files:
            path = here / name
            result = upload_to_folder(
                client,
                path,
                folder=folder,
                folder_id=folder_id,
                name=name,
                sha1=file_sha1(path),
                items=items,
                options=options,
            )
            report.record(result.action, result.box_path, result.size)
            done += 1
            if progress is not None:
                progress(done / total, f"{result.action} {result.box_path}")
        if delete:
            _delete_extra(client, folder, items, {*dirs, *files}, report)
    logger.info("mirrored %s to %s: %s", local, box_folder, report.to_dict()["counts"])
    return report


def _delete_extra(
    client: BoxClient,
    folder: str,
    items: dict[str, Any],
    local_names: set[str],
    report: SyncReport,
) -> None:
    keep = {name.lower() for name in local_names}
    for key, item in items.items():
        if key in keep:
            continue
        box_path = join_path(folder, str(item.name))
        if item_kind(item) == "folder":
            client.folders.delete_folder_by_id(str(item.id), recursive=True)
            cache_for(client).invalidate(box_path)
        elif item_kind(item) == "file":
            client.files.delete_file_by_id(str(item.id))
        else:
            continue
        logger.info("%s: deleted %s, absent locally", item.id, box_path)
        report.deleted.append(box_path)
