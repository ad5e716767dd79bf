"""File classes with the bugs and read failures that the pipeline must survive."""

from __future__ import annotations

from sentinel.core import FILE_FORMAT, TypeRegistry, TypeSpec
from sentinel.files import DataFile


class CrashingFile(DataFile):
    """A file class with a bug: parsing raises ValueError, not a FilesError."""

    format = "crashing"
    extensions = (".crash",)

    def _parse(self) -> None:
        raise ValueError("unpacked 3 values, expected 2")


class LockedFile(DataFile):
    """A file class whose reads fail as if another program locked the file."""

    format = "locked"
    extensions = (".locked",)

    def _parse(self) -> None:
        raise PermissionError(13, "Permission denied", str(self.path))


def registry_with(*classes: type[DataFile]) -> TypeRegistry:
    registry = TypeRegistry()
    for cls in classes:
        target = f"{cls.__module__}:{cls.__qualname__}"
        registry.add(TypeSpec(FILE_FORMAT, cls.format, target), "test")
    return registry
