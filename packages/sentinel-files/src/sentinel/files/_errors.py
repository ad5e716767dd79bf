"""Exceptions raised by sentinel-files, all under :class:`FilesError`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sentinel.core import SentinelError


class FilesError(SentinelError):
    """Root of every error that sentinel-files raises on purpose.

    ``code`` is a short stable identifier (``"encrypted"``, ``"json-syntax"``)
    and ``hint`` says what to do about the file.
    """

    code = "files-error"

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        format: str | None = None,
        code: str | None = None,
        hint: str = "",
        location: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.format = format
        if code is not None:
            self.code = code
        self.hint = hint
        self.location = dict(location or {})

    def as_dict(self) -> dict[str, Any]:
        """Return the error's fields as a JSON-ready dict."""
        return {
            "error": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "format": self.format,
            "hint": self.hint,
            **self.location,
        }


class UnsupportedFormatError(FilesError):
    """The file is of a format that no file class reads."""

    code = "unsupported-format"


class InvalidFileError(FilesError):
    """The file claims a supported format but cannot be parsed."""

    code = "invalid-file"


class EmptyFileError(InvalidFileError):
    """The file has no content at all."""

    code = "empty-file"


class EncryptedFileError(InvalidFileError):
    """The file is encrypted or password-protected."""

    code = "encrypted"


class UnsafeContentError(InvalidFileError):
    """The file uses a construct rejected for safety.

    Examples are XML entity expansion and external entities, YAML alias
    expansion beyond the limit, and JSON nested deeper than the limit.
    """

    code = "unsafe-content"


class RouteNotFoundError(FilesError, LookupError):
    """A job names a route that the ``files.routes`` config does not define."""

    code = "route-not-found"
