"""The contract of a file-format class (kind ``file.format``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest

from sentinel.core import FILE_FORMAT, SentinelError
from sentinel.testing._contract_base import TypeContract


class FileFormatContract(TypeContract):
    """Checks for a file class: load, summary, and errors on bad input.

    Provide the fixtures ``valid_file`` and ``invalid_file``, each returning
    the path of a file written under ``tmp_path``. The class must offer
    ``format``, ``extensions``, ``load(path)`` and ``summary()``, as
    :class:`sentinel.files.DataFile` subclasses do.
    """

    kind: ClassVar[str] = FILE_FORMAT

    @pytest.fixture
    def valid_file(self, tmp_path: Path) -> Path:
        """A file of this format that loads without errors."""
        raise NotImplementedError("provide a valid_file fixture")

    @pytest.fixture
    def invalid_file(self, tmp_path: Path) -> Path:
        """A non-empty file that claims this format but cannot be read as it."""
        raise NotImplementedError("provide an invalid_file fixture")

    def test_declares_format_and_extensions(self) -> None:
        file_class = self.implementation()
        assert isinstance(file_class.format, str)
        assert file_class.format
        assert file_class.extensions
        for extension in file_class.extensions:
            assert extension.startswith(".")
            assert extension == extension.lower()

    def test_loads_valid_file(self, valid_file: Path) -> None:
        file_class = self.implementation()
        loaded = file_class.load(valid_file)
        assert isinstance(loaded, file_class)
        assert not getattr(loaded, "errors", [])

    def test_summary_is_json_with_format(self, valid_file: Path) -> None:
        summary = self.implementation().load(valid_file).summary()
        decoded: dict[str, Any] = json.loads(json.dumps(summary))
        assert decoded["format"] == self.implementation().format

    def test_invalid_file_raises_naming_path(self, invalid_file: Path) -> None:
        with pytest.raises(SentinelError) as caught:
            self.implementation().load(invalid_file)
        assert invalid_file.name in str(caught.value)

    def test_empty_file_raises(self, tmp_path: Path) -> None:
        extension = self.implementation().extensions[0]
        empty = tmp_path / f"empty{extension}"
        empty.write_bytes(b"")
        with pytest.raises(SentinelError):
            self.implementation().load(empty)

    def test_missing_file_raises(self, tmp_path: Path) -> None:
        extension = self.implementation().extensions[0]
        with pytest.raises(SentinelError):
            self.implementation().load(tmp_path / f"missing{extension}")
