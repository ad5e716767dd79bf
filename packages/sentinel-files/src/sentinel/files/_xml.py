"""XML files parsed with defusedxml, with multi-byte encodings decoded first."""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml
import defusedxml.ElementTree as safe_etree

from sentinel.files._base import DataFile
from sentinel.files._errors import InvalidFileError, UnsafeContentError

DECLARED_ENCODING = re.compile(
    rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']"""
)
# Encodings that Python's expat reads itself; it reads other single-byte
# encodings through a fallback but rejects multi-byte ones such as Big5.
EXPAT_ENCODINGS = frozenset({"utf-8", "utf-16", "iso8859-1", "ascii"})
MAX_NAMESPACES_LISTED = 20
POSITION_SUFFIX = re.compile(r":? line \d+, column \d+$")


class XmlFile(DataFile):
    """An XML document parsed with entity expansion, external entities and
    DTD retrieval refused."""

    __slots__ = ("child_count", "declared_encoding", "namespaces", "root_tag")

    format = "xml"
    extensions = (".xml", ".svg", ".rss", ".atom", ".xsd", ".xsl", ".xslt")

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.root_tag = ""
        self.child_count = 0
        self.declared_encoding: str | None = None
        self.namespaces: dict[str, str] = {}

    def _parse(self) -> None:
        data = self.path.read_bytes()
        source = self._source(data)
        try:
            root = self._iterparse(source)
        except defusedxml.EntitiesForbidden as exc:
            raise _entity_error(self.path, exc) from None
        except defusedxml.ExternalReferenceForbidden as exc:
            raise UnsafeContentError(
                f"{self.path}: external reference {exc.sysid!r} is refused; "
                f"sentinel never fetches DTDs or external entities",
                code="external-reference",
                hint="Remove the external reference from the document.",
            ) from None
        except defusedxml.DTDForbidden:
            raise UnsafeContentError(
                f"{self.path}: a DTD is refused", code="dtd-forbidden"
            ) from None
        except ParseError as exc:
            line, column = exc.position
            # expat's message ends with its own 0-based column; the location
            # is reported once, 1-based, in ``location``.
            message = POSITION_SUFFIX.sub("", str(exc.msg))
            raise InvalidFileError(
                f"{self.path}: not well-formed XML: {message}",
                code="xml-syntax",
                hint="Fix the document at the reported line and column.",
                location={"row": line, "column": column + 1},
            ) from None
        self.root_tag = root.tag
        self.child_count = len(root)

    def _source(self, data: bytes) -> io.BytesIO | io.StringIO:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self.declared_encoding = "utf-16"
            return io.BytesIO(data)
        match = DECLARED_ENCODING.match(data)
        if match is None:
            return io.BytesIO(data)
        declared = match.group(1).decode("ascii")
        self.declared_encoding = declared
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            raise InvalidFileError(
                f"{self.path}: declared encoding {declared!r} is unknown",
                code="encoding",
                hint="Declare a standard encoding such as UTF-8.",
            ) from None
        if name in EXPAT_ENCODINGS or _is_single_byte(name):
            return io.BytesIO(data)
        try:
            # pyexpat parses str input as UTF-8 whatever the declaration says.
            return io.StringIO(data.decode(name))
        except UnicodeDecodeError as exc:
            raise InvalidFileError(
                f"{self.path}: bytes at offset {exc.start} are not valid "
                f"{declared}, the declared encoding",
                code="encoding",
                hint="Declare the encoding the file is actually written in.",
            ) from None

    def _iterparse(self, source: io.BytesIO | io.StringIO) -> Any:
        events = safe_etree.iterparse(
            source,
            events=("start-ns",),
            forbid_dtd=False,
            forbid_entities=True,
            forbid_external=True,
        )
        for _event, (prefix, uri) in events:
            if len(self.namespaces) < MAX_NAMESPACES_LISTED:
                self.namespaces.setdefault(prefix, uri)
        return events.root

    def _describe(self) -> dict[str, Any]:
        namespace, _, local = self.root_tag[1:].rpartition("}")
        if not self.root_tag.startswith("{"):
            namespace, local = "", self.root_tag
        return {
            "encoding": self.declared_encoding or "utf-8",
            "root": self.root_tag,
            "root_name": local,
            "namespace": namespace or None,
            "namespaces": dict(self.namespaces),
            "children": self.child_count,
        }


def _is_single_byte(name: str) -> bool:
    try:
        return len(bytes(range(256)).decode(name, errors="ignore")) >= 128 and all(
            len(char.encode(name)) == 1
            for char in bytes(range(128, 256)).decode(name, errors="ignore")
        )
    except (UnicodeError, LookupError):
        return False


def _entity_error(path: Path, exc: Any) -> UnsafeContentError:
    if exc.sysid or exc.pubid:
        return UnsafeContentError(
            f"{path}: external entity {exc.name!r} ({exc.sysid or exc.pubid}) is "
            f"refused; sentinel never fetches external entities",
            code="external-entity",
            hint="Remove the entity declaration and put the content inline.",
        )
    return UnsafeContentError(
        f"{path}: the document declares the entity {exc.name!r}; entity "
        f"declarations are rejected because expanding them can exhaust memory "
        f"(billion laughs, quadratic blowup)",
        code="entity-expansion",
        hint="Remove the entity declarations from the DOCTYPE and write their "
        "text inline where the document uses them.",
    )
