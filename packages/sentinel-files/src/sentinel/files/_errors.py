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

    def where(self) -> str:
        """Describe the 1-based location, such as ``sheet 'A', line 7, column 39``."""
        parts = []
        if "sheet" in self.location:
            parts.append(f"sheet {self.location['sheet']!r}")
        if "row" in self.location:
            word = "row" if "sheet" in self.location else "line"
            parts.append(f"{word} {self.location['row']}")
        if "column" in self.location:
            parts.append(f"column {self.location['column']}")
        return ", ".join(parts)

    def describe(self) -> str:
        """Return the message with its location and hint, in one line."""
        text = self.message
        where = self.where()
        if where:
            text += f" (at {where})"
        if self.hint:
            text += f". {self.hint}"
        return text

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


class SheetNotFoundError(FilesError, LookupError):
    """A caller names a sheet, by name or index, that the workbook lacks."""

    code = "sheet-not-found"


class RouteConfigError(FilesError):
    """A ``files.routes`` setting is invalid; the message names its config key."""

    code = "route-config"


class ReadingConfigError(FilesError):
    """A reading option in the ``files`` config is invalid; the message names it."""

    code = "reading-config"


class FileOperationError(FilesError):
    """Moving a file or writing its reason failed in the file system."""

    code = "file-operation"


class ReaderError(FilesError):
    """Reading a file raised an exception that is not a :class:`FilesError`.

    Code ``read-failed`` is an :class:`OSError`, such as a file locked by
    another program. Code ``reader-error`` is any other exception, which is
    a bug in the file class that read the file rather than a problem that
    it found in the file.
    """

    code = "reader-error"

    @classmethod
    def from_exception(
        cls, exc: Exception, path: str | Path, reader: type | None
    ) -> ReaderError:
        """Build the error for ``exc``, raised while ``reader`` read ``path``.

        ``reader`` is the file class that the format detection picked, or
        None when detection failed as well.
        """
        raised = f"{type(exc).__name__}: {exc}"
        format = getattr(reader, "format", None) or None
        if isinstance(exc, OSError):
            return cls(
                f"{path}: reading the file failed: {raised}",
                path=path,
                format=format,
                code="read-failed",
                hint="Check that the user that runs sentinel can read the file "
                "and that no other program locks it, then send it again.",
            )
        if reader is None:
            name = "the file reader"
            package = "sentinel-files or of the file.format plugin"
        else:
            name = f"the {reader.__module__}.{reader.__qualname__} file class"
            package = _distribution_name(reader.__module__)
        return cls(
            f"{path}: {name} crashed with {raised}; this is a bug in the "
            f"reader, not an error it found in the file",
            path=path,
            format=format,
            code="reader-error",
            hint=f"Report the bug to the maintainers of {package} and attach "
            f"the file; send the file again once a fixed version is installed.",
        )


def _distribution_name(module: str) -> str:
    # sentinel's distributions share the sentinel namespace package, so
    # sentinel.files comes from sentinel-files; a plugin module outside it
    # is named by its top-level package.
    parts = module.split(".")
    if parts[0] == "sentinel" and len(parts) > 1:
        return f"sentinel-{parts[1]}"
    return parts[0]
