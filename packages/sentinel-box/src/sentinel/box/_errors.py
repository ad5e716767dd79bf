"""Exceptions raised by sentinel-box, all under one root class."""

from __future__ import annotations

from typing import Any

from sentinel.core import SentinelError


class BoxError(SentinelError):
    """Root of every error that sentinel-box raises on purpose."""


class BoxConfigError(BoxError):
    """The ``box`` config section is incomplete or contradicts itself."""


class BoxPathError(BoxError, ValueError):
    """A Box folder path or item name is not valid."""


class BoxItemNotFoundError(BoxError, LookupError):
    """A Box item that a path or id names does not exist."""


class EmulatorApiError(BoxError):
    """A request to the Box emulator failed; rendered as a Box error object.

    ``status`` is the HTTP status, ``code`` Box's error code (such as
    ``item_name_in_use``) and ``context_info`` the extra details Box sends
    with some errors, such as the conflicting item.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        context_info: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.context_info = context_info
        self.headers = headers or {}


class BoxTokenError(BoxError):
    """A Box access token cannot be read, stored or refreshed."""


class BoxIntegrityError(BoxError):
    """Downloaded or uploaded content does not match the SHA-1 Box reports."""


class BoxUploadError(BoxError):
    """An upload could not be completed as Box answered unexpectedly."""
