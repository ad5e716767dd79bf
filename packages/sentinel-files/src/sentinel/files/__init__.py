"""sentinel-files: file classes, format detection and the folder watcher."""

from __future__ import annotations

from sentinel.files._base import DataFile
from sentinel.files._convert import convert, csv_to_xlsx, xlsx_to_csv
from sentinel.files._csv import CsvFile, TsvFile
from sentinel.files._detect import Detection, detect
from sentinel.files._dialect import Dialect, detect_dialect
from sentinel.files._encoding import EncodingGuess, detect_encoding
from sentinel.files._errors import (
    EmptyFileError,
    EncryptedFileError,
    FileOperationError,
    FilesError,
    InvalidFileError,
    ReaderError,
    RouteConfigError,
    RouteNotFoundError,
    SheetNotFoundError,
    UnsafeContentError,
    UnsupportedFormatError,
)
from sentinel.files._formats import FILE_CLASSES, classes_from_registry, load_file
from sentinel.files._issues import Issue
from sentinel.files._json import JsonFile
from sentinel.files._limits import WorkbookLimits
from sentinel.files._routes import RouteConfig, load_routes
from sentinel.files._watcher import FolderWatcher, ReadyFile, Route
from sentinel.files._xlsx import XlsmFile, XlsxFile
from sentinel.files._xml import XmlFile
from sentinel.files._yaml import Yaml12Loader, YamlFile

__all__ = [
    "CsvFile",
    "DataFile",
    "Detection",
    "Dialect",
    "EmptyFileError",
    "EncodingGuess",
    "EncryptedFileError",
    "FILE_CLASSES",
    "FileOperationError",
    "FilesError",
    "FolderWatcher",
    "InvalidFileError",
    "Issue",
    "JsonFile",
    "ReaderError",
    "ReadyFile",
    "Route",
    "RouteConfig",
    "RouteConfigError",
    "RouteNotFoundError",
    "SheetNotFoundError",
    "TsvFile",
    "UnsafeContentError",
    "UnsupportedFormatError",
    "WorkbookLimits",
    "XlsmFile",
    "XlsxFile",
    "XmlFile",
    "Yaml12Loader",
    "YamlFile",
    "classes_from_registry",
    "convert",
    "csv_to_xlsx",
    "detect",
    "detect_dialect",
    "detect_encoding",
    "load_file",
    "load_routes",
    "xlsx_to_csv",
]
