"""sentinel-box: a paced Box client, the Box tasks and a local Box API emulator.

Names are imported on first use, so loading the plugin module imports
neither box_sdk_gen nor aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentinel.box._auth import SharedAuth
    from sentinel.box._client import (
        base_urls,
        make_auth,
        make_client,
    )
    from sentinel.box._download import (
        DownloadResult,
        download_file,
        resolve_file,
    )
    from sentinel.box._emulator import (
        BoxEmulator,
        EmulatorStore,
        FaultPlan,
    )
    from sentinel.box._errors import (
        BoxConfigError,
        BoxError,
        BoxIntegrityError,
        BoxItemNotFoundError,
        BoxPathError,
        BoxTokenError,
        BoxUploadError,
        EmulatorApiError,
    )
    from sentinel.box._network import PacedNetworkClient
    from sentinel.box._paths import (
        PathCache,
        cache_for,
        ensure_folder,
        file_path,
        find_file,
        find_item,
        folder_path,
        iter_items,
        iter_search,
        join_path,
        resolve_folder,
        split_path,
    )
    from sentinel.box._ratelimit import (
        Limit,
        MemoryLimiter,
        Pacer,
        RedisLimiter,
    )
    from sentinel.box._retry import RetryPolicy, parse_retry_after
    from sentinel.box._settings import BOX_SECTION, box_settings
    from sentinel.box._sync import SyncReport, sync_folder
    from sentinel.box._tasks import (
        box_download,
        box_sync,
        box_upload,
    )
    from sentinel.box._tokens import (
        Cipher,
        MemoryTokenStorage,
        RedisTokenStorage,
    )
    from sentinel.box._upload import (
        ChunkedUpload,
        UploadOptions,
        UploadResult,
        file_sha1,
        upload_file,
    )

_LOCATIONS = {
    "BOX_SECTION": "sentinel.box._settings",
    "BoxConfigError": "sentinel.box._errors",
    "BoxEmulator": "sentinel.box._emulator",
    "BoxError": "sentinel.box._errors",
    "BoxIntegrityError": "sentinel.box._errors",
    "BoxItemNotFoundError": "sentinel.box._errors",
    "BoxPathError": "sentinel.box._errors",
    "BoxTokenError": "sentinel.box._errors",
    "BoxUploadError": "sentinel.box._errors",
    "ChunkedUpload": "sentinel.box._upload",
    "Cipher": "sentinel.box._tokens",
    "DownloadResult": "sentinel.box._download",
    "EmulatorApiError": "sentinel.box._errors",
    "EmulatorStore": "sentinel.box._emulator",
    "FaultPlan": "sentinel.box._emulator",
    "Limit": "sentinel.box._ratelimit",
    "MemoryLimiter": "sentinel.box._ratelimit",
    "MemoryTokenStorage": "sentinel.box._tokens",
    "PacedNetworkClient": "sentinel.box._network",
    "Pacer": "sentinel.box._ratelimit",
    "PathCache": "sentinel.box._paths",
    "RedisLimiter": "sentinel.box._ratelimit",
    "RedisTokenStorage": "sentinel.box._tokens",
    "RetryPolicy": "sentinel.box._retry",
    "SharedAuth": "sentinel.box._auth",
    "SyncReport": "sentinel.box._sync",
    "UploadOptions": "sentinel.box._upload",
    "UploadResult": "sentinel.box._upload",
    "base_urls": "sentinel.box._client",
    "box_download": "sentinel.box._tasks",
    "box_settings": "sentinel.box._settings",
    "box_sync": "sentinel.box._tasks",
    "box_upload": "sentinel.box._tasks",
    "cache_for": "sentinel.box._paths",
    "download_file": "sentinel.box._download",
    "ensure_folder": "sentinel.box._paths",
    "file_path": "sentinel.box._paths",
    "file_sha1": "sentinel.box._upload",
    "find_file": "sentinel.box._paths",
    "find_item": "sentinel.box._paths",
    "folder_path": "sentinel.box._paths",
    "iter_items": "sentinel.box._paths",
    "iter_search": "sentinel.box._paths",
    "join_path": "sentinel.box._paths",
    "make_auth": "sentinel.box._client",
    "make_client": "sentinel.box._client",
    "parse_retry_after": "sentinel.box._retry",
    "resolve_file": "sentinel.box._download",
    "resolve_folder": "sentinel.box._paths",
    "split_path": "sentinel.box._paths",
    "sync_folder": "sentinel.box._sync",
    "upload_file": "sentinel.box._upload",
}

__all__ = [
    "BOX_SECTION",
    "BoxConfigError",
    "BoxEmulator",
    "BoxError",
    "BoxIntegrityError",
    "BoxItemNotFoundError",
    "BoxPathError",
    "BoxTokenError",
    "BoxUploadError",
    "ChunkedUpload",
    "Cipher",
    "DownloadResult",
    "EmulatorApiError",
    "EmulatorStore",
    "FaultPlan",
    "Limit",
    "MemoryLimiter",
    "MemoryTokenStorage",
    "PacedNetworkClient",
    "Pacer",
    "PathCache",
    "RedisLimiter",
    "RedisTokenStorage",
    "RetryPolicy",
    "SharedAuth",
    "SyncReport",
    "UploadOptions",
    "UploadResult",
    "base_urls",
    "box_download",
    "box_settings",
    "box_sync",
    "box_upload",
    "cache_for",
    "download_file",
    "ensure_folder",
    "file_path",
    "file_sha1",
    "find_file",
    "find_item",
    "folder_path",
    "iter_items",
    "iter_search",
    "join_path",
    "make_auth",
    "make_client",
    "parse_retry_after",
    "resolve_file",
    "resolve_folder",
    "split_path",
    "sync_folder",
    "upload_file",
]


def __getattr__(name: str) -> Any:
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'sentinel.box' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
