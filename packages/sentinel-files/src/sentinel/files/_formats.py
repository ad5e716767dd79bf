"""The built-in file classes by format name, and loading a path by its format."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sentinel.files._base import DataFile
from sentinel.files._csv import CsvFile, TsvFile
from sentinel.files._detect import detect
from sentinel.files._errors import UnsupportedFormatError
from sentinel.files._json import JsonFile
from sentinel.files._xlsx import XlsmFile, XlsxFile
from sentinel.files._xml import XmlFile
from sentinel.files._yaml import YamlFile

FILE_CLASSES: dict[str, type[DataFile]] = {
    "csv": CsvFile,
    "json": JsonFile,
    "tsv": TsvFile,
    "xlsm": XlsmFile,
    "xlsx": XlsxFile,
    "xml": XmlFile,
    "yaml": YamlFile,
}


def load_file(
    path: str | Path, classes: Mapping[str, type[DataFile]] | None = None
) -> DataFile:
    """Detect the format of ``path`` and load it with the matching file class.

    ``classes`` maps format names to file classes (for example the
    ``file.format`` types of a plugin host); it defaults to the built-in ones.
    """
    detection = detect(path)
    found = (classes or FILE_CLASSES).get(detection.format)
    if found is None:
        raise UnsupportedFormatError(
            f"{path}: no file class is registered for format {detection.format!r}",
            path=path,
            format=detection.format,
            hint="Install the plugin that provides this format.",
        )
    return found.load(path)
