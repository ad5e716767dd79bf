"""sentinel-box: the Box client, the box.upload task and a local Box API emulator.

Names are imported on first use, so loading the plugin module imports
neither box_sdk_gen nor aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentinel.box._client import base_urls, make_auth, make_client
    from sentinel.box._emulator import BoxEmulator, EmulatorStore, FaultPlan
    from sentinel.box._errors import (
        BoxConfigError,
        BoxError,
        BoxItemNotFoundError,
        BoxPathError,
        EmulatorApiError,
    )
    from sentinel.box._paths import (
        ensure_folder,
        find_file,
        find_item,
        iter_items,
        join_path,
        resolve_folder,
        split_path,
    )
    from sentinel.box._settings import BOX_SECTION, box_settings
    from sentinel.box._tasks import box_upload
    from sentinel.box._upload import UploadResult, file_sha1, upload_file

_LOCATIONS = {
    "BOX_SECTION": "sentinel.box._settings",
    "BoxConfigError": "sentinel.box._errors",
    "BoxEmulator": "sentinel.box._emulator",
    "BoxError": "sentinel.box._errors",
    "BoxItemNotFoundError": "sentinel.box._errors",
    "BoxPathError": "sentinel.box._errors",
    "EmulatorApiError": "sentinel.box._errors",
    "EmulatorStore": "sentinel.box._emulator",
    "FaultPlan": "sentinel.box._emulator",
    "UploadResult": "sentinel.box._upload",
    "base_urls": "sentinel.box._client",
    "box_settings": "sentinel.box._settings",
    "box_upload": "sentinel.box._tasks",
    "ensure_folder": "sentinel.box._paths",
    "file_sha1": "sentinel.box._upload",
    "find_file": "sentinel.box._paths",
    "find_item": "sentinel.box._paths",
    "iter_items": "sentinel.box._paths",
    "join_path": "sentinel.box._paths",
    "make_auth": "sentinel.box._client",
    "make_client": "sentinel.box._client",
    "resolve_folder": "sentinel.box._paths",
    "split_path": "sentinel.box._paths",
    "upload_file": "sentinel.box._upload",
}

__all__ = [
    "BOX_SECTION",
    "BoxConfigError",
    "BoxEmulator",
    "BoxError",
    "BoxItemNotFoundError",
    "BoxPathError",
    "EmulatorApiError",
    "EmulatorStore",
    "FaultPlan",
    "UploadResult",
    "base_urls",
    "box_settings",
    "box_upload",
    "ensure_folder",
    "file_sha1",
    "find_file",
    "find_item",
    "iter_items",
    "join_path",
    "make_auth",
    "make_client",
    "resolve_folder",
    "split_path",
    "upload_file",
]


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'sentinel.box' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
