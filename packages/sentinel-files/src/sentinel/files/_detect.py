"""Format detection from a file's content and name, with the reason for it."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentinel.files._errors import UnsupportedFormatError
from sentinel.files._sniff import SNIFFED_SUFFIXES, sniff_text

EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsm",
    ".xml": "xml",
    ".svg": "xml",
    ".rss": "xml",
    ".atom": "xml",
    ".xsd": "xml",
    ".xsl": "xml",
    ".xslt": "xml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".geojson": "json",
    ".topojson": "json",
}
# Formats that are recognised but not read, with what to do instead.
UNSUPPORTED = {
    ".xls": "legacy Excel 97-2003 workbook; save it as .xlsx",
    ".xlsb": "binary Excel workbook; save it as .xlsx",
    ".ods": "OpenDocument spreadsheet; save it as .xlsx",
    ".gz": "gzip-compressed file; decompress it first",
    ".zip": "ZIP archive; extract it first",
    ".jsonl": "JSON Lines; send one JSON document per file or convert to CSV",
    ".ndjson": "JSON Lines; send one JSON document per file or convert to CSV",
    ".md": "Markdown text",
    ".markdown": "Markdown text",
    ".pdf": "PDF document",
    ".doc": "Word document",
    ".docx": "Word document",
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b"
TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
HEAD_SIZE = 8192
BUILT_IN = frozenset(EXTENSIONS.values())


@dataclass(frozen=True, slots=True)
class Detection:
    """The format chosen for a file and why."""

    format: str
    reason: str


def detect(path: str | Path, classes: Mapping[str, Any] | None = None) -> Detection:
    """Detect the format of ``path`` from its first bytes and its extension.

    Binary signatures (ZIP, OLE, gzip) take precedence over the name; text
    files take the format of their extension, and those without one or
    named ``.txt`` or ``.dat`` the format their content shows (JSON, XML,
    YAML, CSV or TSV). ``classes`` are file classes
    by format name: one that is not built in (a plugin's) is chosen for a
    file whose extension it lists in ``extensions`` or whose first bytes its
    ``sniff`` accepts. Raises :class:`UnsupportedFormatError` naming the
    format when no file class reads it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    with path.open("rb") as stream:
        head = stream.read(HEAD_SIZE)
    if suffix not in EXTENSIONS:
        claimed = _plugin_claim(suffix, head, classes or {})
        if claimed is not None:
            return claimed
    if not head:
        return _by_extension(path, suffix, "the file is empty")
    if head.startswith(ZIP_MAGIC):
        return _detect_zip(path, suffix)
    if head.startswith(OLE_MAGIC):
        return _detect_ole(path, suffix)
    if head.startswith(GZIP_MAGIC):
        raise _unsupported(path, "gzip-compressed data; decompress it first")
    return _detect_text(path, suffix, head)


def find_reader(path: str | Path, classes: Mapping[str, Any]) -> type | None:
    """Return the file class of ``classes`` that reads ``path``, or None.

    Used to name the reader in an error report, so any exception that
    detection raises gives None.
    """
    try:
        detection = detect(path, classes)
    except Exception:  # noqa: BLE001 - only names the reader in a report
        return None
    found: type | None = classes.get(detection.format)
    return found


def _detect_text(path: Path, suffix: str, head: bytes) -> Detection:
    if b"\x00" in head and not head.startswith(TEXT_BOMS):
        # A named text format goes to its parser, which reports where the
        # NUL byte is; anything else is taken for binary data.
        if suffix not in EXTENSIONS:
            raise _unsupported(path, "binary data (contains NUL bytes), not text")
        return _by_extension(path, suffix, "text with NUL bytes")
    if suffix in SNIFFED_SUFFIXES:
        return _by_content(path, suffix, head)
    return _by_extension(path, suffix, "content is text")


def _by_content(path: Path, suffix: str, head: bytes) -> Detection:
    named = f"extension {suffix}" if suffix else "no file extension"
    sniffed = sniff_text(path, head)
    if sniffed.format is None:
        raise _unsupported(path, f"{named}, and the content is {sniffed.reason}")
    return Detection(sniffed.format, f"{named}; {sniffed.reason}")


def _plugin_claim(
    suffix: str, head: bytes, classes: Mapping[str, Any]
) -> Detection | None:
    for name, cls in classes.items():
        if name in BUILT_IN:
            continue
        if suffix and suffix in getattr(cls, "extensions", ()):
            return Detection(
                name, f"extension {suffix} is listed by the {name} file class"
            )
    for name, cls in classes.items():
        sniff = getattr(cls, "sniff", None)
        if name in BUILT_IN or sniff is None:
            continue
        reason = sniff(head)
        if reason:
            return Detection(name, f"content matches the {name} file class: {reason}")
    return None


def _by_extension(path: Path, suffix: str, content: str) -> Detection:
    if suffix in EXTENSIONS:
        return Detection(EXTENSIONS[suffix], f"extension {suffix}; {content}")
    if suffix in UNSUPPORTED:
        raise _unsupported(path, UNSUPPORTED[suffix])
    if not suffix:
        raise _unsupported(path, "no file extension, so the format is unknown")
    raise _unsupported(path, f"extension {suffix} is not a known format")


def _detect_zip(path: Path, suffix: str) -> Detection:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError):
        if suffix in {".xlsx", ".xlsm"}:
            return Detection(EXTENSIONS[suffix], f"extension {suffix}; broken ZIP")
        raise _unsupported(path, "a damaged ZIP archive") from None
    is_workbook = "xl/workbook.xml" in names or (
        "[Content_Types].xml" in names and suffix in {".xlsx", ".xlsm"}
    )
    if is_workbook:
        macros = any(name.endswith("vbaProject.bin") for name in names)
        kind = "xlsm" if macros or suffix == ".xlsm" else "xlsx"
        return Detection(kind, f"ZIP package with a workbook part; extension {suffix}")
    if "xl/workbook.bin" in names:
        raise _unsupported(path, "binary Excel workbook (.xlsb); save it as .xlsx")
    if b"opendocument" in mimetype:
        raise _unsupported(path, "OpenDocument file; save it as .xlsx")
    raise _unsupported(path, "a ZIP archive that holds no workbook; extract it first")


def _detect_ole(path: Path, suffix: str) -> Detection:
    # Encrypted OOXML workbooks are stored in an OLE container, as are
    # legacy .xls files; the extension shows which one the sender meant.
    if suffix in {".xlsx", ".xlsm"}:
        return Detection(
            EXTENSIONS[suffix],
            f"OLE container named {suffix}: an encrypted workbook",
        )
    raise _unsupported(
        path, "OLE compound file (legacy Excel .xls or Word .doc); save it as .xlsx"
    )


def _unsupported(path: Path, what: str) -> UnsupportedFormatError:
    supported = ", ".join(sorted(set(EXTENSIONS)))
    return UnsupportedFormatError(
        f"{path}: unsupported format: {what}",
        path=path,
        hint=f"Supported extensions: {supported}; files without an extension "
        f"or named .txt or .dat are read as the JSON, XML, YAML, CSV or TSV their "
        f"content shows.",
    )
