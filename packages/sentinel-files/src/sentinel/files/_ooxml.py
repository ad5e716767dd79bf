"""Facts that python-calamine does not expose, read from the OOXML package parts."""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_etree

# Transitional and Strict OOXML use different namespaces for the same parts,
# so elements and attributes are matched by local name.
ERROR_CELL = re.compile(
    rb'<(?:\w+:)?c\b(?=[^>]*\bt="e")[^>]*\br="([A-Z]+)([0-9]+)"[^>]*>'
    rb".*?<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>",
    re.DOTALL,
)
MAX_ERROR_CELLS = 50


@dataclass(frozen=True, slots=True)
class ErrorCell:
    """A cell whose cached value is an Excel error such as ``#DIV/0!``."""

    sheet: str
    row: int
    column: int
    value: str


@dataclass(slots=True)
class PackageFacts:
    """The date system, macro flag and error cells of a workbook package."""

    date1904: bool = False
    has_macros: bool = False
    error_cells: list[ErrorCell] = field(default_factory=list)


def read_package_facts(archive: zipfile.ZipFile) -> PackageFacts:
    """Read what calamine does not report from an open workbook archive."""
    facts = PackageFacts()
    names = set(archive.namelist())
    facts.has_macros = any(name.endswith("vbaProject.bin") for name in names)
    if "xl/workbook.xml" not in names:
        return facts
    workbook = safe_etree.fromstring(archive.read("xl/workbook.xml"))
    facts.date1904 = _date1904(workbook)
    parts = sheet_parts(archive, workbook, names)
    for sheet, part in parts.items():
        facts.error_cells.extend(_error_cells(archive.read(part), sheet))
        if len(facts.error_cells) >= MAX_ERROR_CELLS:
            break
    return facts


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _date1904(workbook: Element) -> bool:
    for element in workbook.iter():
        if _local(element.tag) == "workbookPr":
            return element.get("date1904", "0").lower() in {"1", "true"}
    return False


def sheet_parts(
    archive: zipfile.ZipFile, workbook: Element, names: set[str]
) -> dict[str, str]:
    rels_name = "xl/_rels/workbook.xml.rels"
    if rels_name not in names:
        return {}
    targets = {}
    for rel in safe_etree.fromstring(archive.read(rels_name)).iter():
        if _local(rel.tag) == "Relationship":
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id")] = posixpath.normpath(path)
    parts = {}
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        rel_id = next(
            (value for key, value in element.attrib.items() if _local(key) == "id"),
            None,
        )
        part = targets.get(rel_id)
        if part in names and part is not None:
            parts[element.get("name", "")] = part
    return parts


def _error_cells(xml: bytes, sheet: str) -> list[ErrorCell]:
    cells = []
    for match in ERROR_CELL.finditer(xml):
        letters, row, value = match.groups()
        cells.append(
            ErrorCell(sheet, int(row), column_number(letters.decode()), value.decode())
        )
        if len(cells) >= MAX_ERROR_CELLS:
            break
    return cells


def column_number(letters: str) -> int:
    """Convert a column name such as ``"AB"`` to its 1-based number."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
