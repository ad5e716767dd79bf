"""The base class of every file class: load a path, summarise it, list issues."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

from sentinel.files._errors import EmptyFileError, FilesError
from sentinel.files._issues import ERROR, WARNING, Issue


class DataFile:
    """A file read into memory (or indexed for lazy reading) by its format.

    Subclasses set ``format`` and ``extensions`` and implement :meth:`_parse`,
    which raises a :class:`FilesError` subclass when the file cannot be read
    and records recoverable problems with :meth:`warn`.
    """

    __slots__ = ("issues", "path", "size")

    format: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self.issues: list[Issue] = []

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read and validate ``path``; raise a :class:`FilesError` if it fails."""
        instance = cls(Path(path))
        try:
            instance.size = instance._stat_size()
            instance._parse()
        except FilesError as exc:
            exc.path = exc.path or str(instance.path)
            exc.format = exc.format or cls.format
            raise
        return instance

    @classmethod
    def sniff(cls, head: bytes) -> str | None:
        """Return why the first bytes ``head`` look like this format, or None.

        Detection asks plugin classes for files whose extension no class
        lists; the built-in classes are chosen by their own rules.
        """
        return None

    def _stat_size(self) -> int:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            raise FilesError(
                f"{self.path}: file not found; check the path",
                code="not-found",
                hint="The file may have been moved or deleted before it was read.",
            ) from None
        if size == 0:
            raise EmptyFileError(
                f"{self.path}: the file is empty (0 bytes); expected {self.format} "
                f"content",
                hint="Check that the writer finished and re-send the file.",
            )
        return size

    def _parse(self) -> None:
        raise NotImplementedError

    def warn(self, code: str, message: str, hint: str = "", **where: Any) -> None:
        """Record a problem that does not stop the file from being used."""
        self.issues.append(Issue(code, message, WARNING, hint=hint, **where))

    @property
    def warnings(self) -> list[Issue]:
        """Issues of severity warning."""
        return [issue for issue in self.issues if issue.severity == WARNING]

    @property
    def errors(self) -> list[Issue]:
        """Issues of severity error, found in parts of the file that were skipped."""
        return [issue for issue in self.issues if issue.severity == ERROR]

    def summary(self) -> dict[str, Any]:
        """Describe the file's format and shape as a JSON-ready dict."""
        return {
            "format": self.format,
            "path": str(self.path),
            "bytes": self.size,
            **self._describe(),
            "warnings": [issue.as_dict() for issue in self.warnings],
            "errors": [issue.as_dict() for issue in self.errors],
        }

    def _describe(self) -> dict[str, Any]:
        return {}
