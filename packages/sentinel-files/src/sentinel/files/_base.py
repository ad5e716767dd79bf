"""The base class of every file class: load a path, summarise it, list issues."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

from sentinel.files._errors import EmptyFileError, FilesError
from sentinel.files._issues import ERROR, WARNING, Issue

# The max top-level keys of a JSON or YAML mapping that a summary lists by
# name. The summary gives the full count beside them.
MAX_KEYS_LISTED = 200


def describe_keys(document: Any) -> dict[str, Any]:
    """Summarise the top-level keys of a mapping: the first ones and their count.

    Both values are None when ``document`` is not a mapping.
    """
    if not isinstance(document, dict):
        return {"top_level_keys": None, "top_level_key_count": None}
    keys = [str(key) for key in list(document)[:MAX_KEYS_LISTED]]
    return {"top_level_keys": keys, "top_level_key_count": len(document)}


class DataFile:
    """A file read into memory (or opened for lazy reading) by its format.

    Subclasses set ``format`` and ``extensions`` and implement :meth:`_parse`,
    which raises a :class:`FilesError` subclass when the file cannot be read
    and records recoverable problems with :meth:`warn`. A subclass whose
    :meth:`_parse` reads only what reading rows needs implements
    :meth:`_finish` for the rest; :meth:`validate`, :meth:`summary` and the
    issue lists run it once, on first use.
    """

    __slots__ = ("_finished", "_issues", "path", "size")

    format: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()
    # Keyword options that the class's constructor accepts, so load_file
    # can pass each class only the options meant for it.
    options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self._issues: list[Issue] = []
        self._finished = False

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        """Open ``path`` and check what reading it needs.

        ``options`` are the keyword options the class lists in
        :attr:`options`. Raises a :class:`FilesError` if the file cannot be
        read. Formats that read rows lazily check the rest in :meth:`validate`.
        """
        instance = cls(Path(path), **options)
        try:
            instance.size = instance._stat_size()
            instance._parse()
        except FilesError as exc:
            instance._locate(exc)
            raise
        return instance

    def validate(self) -> Self:
        """Read the parts of the file that loading left for later.

        Raises a :class:`FilesError` when they show the file cannot be used;
        afterwards :attr:`issues` lists every problem found. Runs once.
        """
        if not self._finished:
            try:
                self._finish()
            except FilesError as exc:
                self._locate(exc)
                raise
            self._finished = True
        return self

    def close(self) -> None:
        """Release what the file class keeps open for reading rows."""

    def _locate(self, exc: FilesError) -> None:
        exc.path = exc.path or str(self.path)
        exc.format = exc.format or self.format

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

    def _finish(self) -> None:
        """Read what :meth:`_parse` left for later; by default nothing."""

    def warn(self, code: str, message: str, hint: str = "", **where: Any) -> None:
        """Record a problem that does not stop the file from being used."""
        self._issues.append(Issue(code, message, WARNING, hint=hint, **where))

    @property
    def issues(self) -> list[Issue]:
        """Every problem found, after :meth:`validate` has read the whole file."""
        self.validate()
        return self._issues

    @property
    def warnings(self) -> list[Issue]:
        """Issues of severity warning."""
        return [issue for issue in self.issues if issue.severity == WARNING]

    @property
    def errors(self) -> list[Issue]:
        """Issues of severity error, found in parts of the file that were skipped."""
        return [issue for issue in self.issues if issue.severity == ERROR]

    def summary(self) -> dict[str, Any]:
        """Describe the file's format and shape as a JSON-ready dict.

        Runs :meth:`validate` first, so it may raise a :class:`FilesError`.
        """
        self.validate()
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
