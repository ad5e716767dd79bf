"""Tests of the C scanner's value extent against the regex scan and calamine."""

from __future__ import annotations

import itertools
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentinel.files import UnsafeContentError, WorkbookLimits, load_file
from sentinel.files import _limits as limits_module

from .test_corpus import CORPUS
from .xlsx_bombs import write_workbook

sheetscan = pytest.importorskip(
    "sentinel.files._sheetscan",
    reason="the C sheet scanner is not compiled; reinstall sentinel-files with a "
    "C compiler present",
)
python_calamine = pytest.importorskip("python_calamine")

PART = "xl/worksheets/sheet1.xml"
Extent = tuple[int, int] | None


def scan(xml: bytes, *boundaries: int) -> tuple[Extent, bool]:
    """Return the C value extent of ``xml`` fed in chunks cut at ``boundaries``."""
    scanner = sheetscan.SheetScanner()
    cuts = [0, *boundaries, len(xml)]
    for start, stop in itertools.pairwise(cuts):
        scanner.feed(xml[start:stop])
    result: tuple[Extent, bool] = scanner.value_extent()
    return result


def sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(PART)


def regex_extent(path: Path) -> Extent:
    with zipfile.ZipFile(path) as archive:
        return limits_module._value_extent_by_regex(archive, PART)


def calamine_extent(path: Path) -> Extent:
    """Return the rows and columns of the grid python-calamine builds."""
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    sheet = workbook.get_sheet_by_index(0)
    return (sheet.height, sheet.width) if sheet.height else None


# Sheets that every cell places by a plain r attribute: the regex scan
# measures them as the C scanner does.
PLAIN_SHEETS = {
    "numbers": (
        b'<row r="2"><c r="B2"><v>1</v></c><c r="E7"><v>2</v></c></row>',
        (6, 4),
    ),
    "prefixed-elements": (
        b'<x:row r="3"><x:c r="C3"><x:v>1</x:v></x:c>'
        b'<x:c r="F9" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c></x:row>',
        (7, 4),
    ),
    "self-closing-styled-cells": (
        b'<row r="1"><c r="B1"><v>1</v></c><c r="XFD1" s="1"/>'
        b'<c r="A1" s="1"></c></row>'
        b'<row r="1048576" s="1"><c r="XFD1048576" s="1"/></row>',
        (1, 1),
    ),
    "inline-strings": (
        b'<row r="4"><c r="D4" t="inlineStr"><is><t>a</t></is></c>'
        b'<c r="G10" t="inlineStr"><is><r><rPr><b/></rPr><t>b</t></r></is></c></row>',
        (7, 4),
    ),
    "any-attribute-form": (
        b'<row r="2"><c s="1" r = \'b2\'><v>1</v></c>'
        b'<c\n\tr="CV100"><v>2</v></c></row>',
        (99, 99),
    ),
    "indented": (
        b'\n  <row r="1">\n    <c r="A1">\n      <v>1</v>\n    </c>\n'
        b'    <c r="C5" t="inlineStr">\n      <is><t>x</t></is>\n    </c>\n  </row>\n',
        (5, 3),
    ),
    "two-colons-in-name": (
        b'<row r="1"><a:b:c r="Z9"><v>1</v></a:b:c><c r="A1"><v>1</v></c></row>',
        (1, 1),
    ),
    "no-values": (b'<row r="1"><c r="A1" s="1"/></row>', None),
}


@pytest.mark.parametrize(
    ("rows", "expected"), PLAIN_SHEETS.values(), ids=PLAIN_SHEETS.keys()
)
def test_value_extent_matches_regex_scan(
    tmp_path: Path, rows: bytes, expected: Extent
) -> None:
    path = write_workbook(tmp_path / "plain.xlsx", [rows], "A1")
    assert scan(sheet_xml(path)) == (expected, False)
    assert regex_extent(path) == expected
    assert calamine_extent(path) == expected


# Sheets that the regex scan measures wrongly. It skips cells without r,
# takes the first r="..." of a tag, prefixed or not, and reads comments as
# markup.
PLACED_SHEETS = {
    "cells-without-r": (
        b'<row r="3"><c r="B3"><v>1</v></c><c><v>2</v></c><c/><c><v>3</v></c></row>'
        b"<row><c><v>4</v></c></row>",
        (2, 5),
    ),
    "rows-without-r": (
        b'<row r="2"><c r="A2"><v>1</v></c></row><row/><row><c><v>1</v></c></row>',
        (3, 1),
    ),
    "cell-after-other-row": (
        b'<row r="5"><c r="B7"><v>1</v></c><c><v>2</v></c></row>',
        (3, 2),
    ),
    "prefixed-r-attribute": (
        b'<row r="1"><c r="A1"><v>1</v></c><c x:r="Z9"><v>2</v></c></row>',
        (1, 2),
    ),
    "repeated-r-attribute": (
        b'<row r="1"><c r="A1"><v>1</v></c><c r="A1" r="E5"><v>2</v></c></row>',
        (5, 5),
    ),
    "cell-after-repeated-r": (
        b'<row r="1"><c r="A1"><v>1</v></c><c r="A1" r="E1"><v>2</v></c>'
        b"<c><v>3</v></c></row>",
        (1, 6),
    ),
    "comment-and-cdata": (
        b'<row r="2"><c r="B2"><v>1</v></c>'
        b'<!-- <c r="XFD1048576"><v>1</v></c> -->'
        b'<c r="C2" t="inlineStr"><is><t><![CDATA[<c r="XFD1"><v>1</v></c>]]>'
        b"</t></is></c></row>",
        (1, 2),
    ),
    "processing-instruction": (
        b'<row r="2"><c r="B2"><v>1</v></c><?x <c r="XFD9"><v>1</v></c> ?></row>',
        (1, 1),
    ),
}


@pytest.mark.parametrize(
    ("rows", "expected"), PLACED_SHEETS.values(), ids=PLACED_SHEETS.keys()
)
def test_value_extent_places_cells_as_calamine(
    tmp_path: Path, rows: bytes, expected: Extent
) -> None:
    path = write_workbook(tmp_path / "placed.xlsx", [rows], "A1")
    assert scan(sheet_xml(path)) == (expected, False)
    assert calamine_extent(path) == expected


def test_formula_only_cell_widens_extent(tmp_path: Path) -> None:
    # calamine keeps no value for a formula without a cached <v>, but the
    # extent counts it, as the regex scan does, so it can only over-measure.
    rows = b'<row r="1"><c r="A1"><v>1</v></c><c r="J20"><f>SUM(A1)</f></c></row>'
    path = write_workbook(tmp_path / "formula.xlsx", [rows], "A1")
    assert scan(sheet_xml(path)) == ((20, 10), False)
    assert regex_extent(path) == (20, 10)
    assert calamine_extent(path) == (1, 1)


EVERY_FORM = b"".join(
    [
        *(rows for rows, _ in PLAIN_SHEETS.values()),
        *(rows for rows, _ in PLACED_SHEETS.values()),
    ]
)


def test_value_extent_split_at_every_offset() -> None:
    whole = scan(EVERY_FORM)
    assert whole[0] is not None
    for offset in range(len(EVERY_FORM) + 1):
        assert scan(EVERY_FORM, offset) == whole, f"split at byte {offset}"


FAR_CELL = b'<c r="XFD1048576"><v>2</v></c>'


@pytest.mark.parametrize("offset", range(len(FAR_CELL) + 1))
def test_value_cut_by_chunk_boundary_is_measured(tmp_path: Path, offset: int) -> None:
    # Pad the sheet so that the chunk boundary of both scans falls
    # ``offset`` bytes into the far cell.
    path = write_workbook(tmp_path / "cut.xlsx", [b""], "A1")
    head = sheet_xml(path).split(b"<sheetData>")[0] + b"<sheetData>"
    first = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576">'
    padding = b" " * (limits_module.CHUNK - len(head) - len(first) - offset)
    rows = first + padding + FAR_CELL + b"</row>"
    path = write_workbook(tmp_path / "cut.xlsx", [rows], "A1")
    xml = sheet_xml(path)
    assert xml.index(FAR_CELL) + offset == limits_module.CHUNK
    assert scan(xml, limits_module.CHUNK) == ((1_048_576, 16_384), False)
    assert regex_extent(path) == (1_048_576, 16_384)


@pytest.mark.parametrize(
    ("rows", "bounds_unsure"),
    [
        (b'<row r="1"><c r="A1" t="inlineStr"><is><c r="E9"/></is></c></row>', False),
        (b'<row r="1"><c r="A1"><row r="9"/><v>1</v></c></row>', False),
        (b'<row r="1"><c r="A1"></sheetData><v>1</v></c></row>', False),
        (b'<!DOCTYPE x><row r="1"><c r="A1"><v>1</v></c></row>', True),
    ],
    ids=["cell-in-cell", "row-in-cell", "sheet-data-end-in-cell", "doctype"],
)
def test_value_extent_is_unsure_of_unusual_xml(
    rows: bytes, bounds_unsure: bool
) -> None:
    scanner = sheetscan.SheetScanner()
    scanner.feed(rows)
    assert scanner.value_extent()[1] is True
    assert scanner.bounds()[2] is bounds_unsure


def test_cells_before_sheet_data_do_not_shift_cells() -> None:
    # calamine starts counting at <sheetData>, so rows and cells before it
    # do not move the cells without r after it: the first cell is A1.
    xml = (
        b"<worksheet><sheetPr><row/><c/><c/></sheetPr><sheetData>"
        b'<row><c><v>1</v></c></row><row r="3"><c r="A3"><v>1</v></c></row>'
        b"</sheetData></worksheet>"
    )
    assert scan(xml) == ((3, 1), False)


def column_letters(column: int) -> bytes:
    letters = b""
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = bytes([ord("A") + remainder]) + letters
    return letters


# Cells of generated sheets: a value, an inline string, or none (styled).
CELL_CONTENTS = {
    "value": (b"", b"<{p}v>7</{p}v>"),
    "inline": (b' t="inlineStr"', b"<{p}is><{p}t>x</{p}t></{p}is>"),
    "styled": (b' s="1"', b""),
}


@st.composite
def generated_cell(draw: st.DrawFn, prefix: bytes) -> bytes:
    kind = draw(st.sampled_from(sorted(CELL_CONTENTS)))
    attributes, content = CELL_CONTENTS[kind]
    if draw(st.booleans()):
        column = draw(st.integers(min_value=1, max_value=30))
        row = draw(st.integers(min_value=1, max_value=40))
        letters = column_letters(column)
        attributes += b' r="%s%d"' % (letters, row)
    name = prefix + b"c"
    if not content and draw(st.booleans()):
        return b"<%s%s/>" % (name, attributes)
    return b"<%s%s>%s</%s>" % (
        name,
        attributes,
        content.replace(b"{p}", prefix),
        name,
    )


@st.composite
def generated_rows(draw: st.DrawFn) -> bytes:
    prefix = draw(st.sampled_from([b"", b"x:"]))
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        number = draw(st.none() | st.integers(min_value=1, max_value=40))
        attributes = b"" if number is None else b' r="%d"' % number
        cells = draw(st.lists(generated_cell(prefix), max_size=5))
        name = prefix + b"row"
        if cells:
            rows.append(b"<%s%s>%s</%s>" % (name, attributes, b"".join(cells), name))
        else:
            rows.append(b"<%s%s/>" % (name, attributes))
    return b"".join(rows)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=generated_rows())
def test_value_extent_matches_calamine_grid(tmp_path: Path, rows: bytes) -> None:
    path = write_workbook(tmp_path / "generated.xlsx", [rows], "A1")
    assert scan(sheet_xml(path)) == (calamine_extent(path), False)


needs_corpus = pytest.mark.skipif(
    not (CORPUS / "xlsx").is_dir(),
    reason=f"corpus not found at {CORPUS}; the real-workbook comparison needs it",
)


def corpus_sheets() -> list[tuple[Path, str]]:
    sheets = []
    for path in sorted((CORPUS / "xlsx").glob("*.xls[xm]")):
        if not zipfile.is_zipfile(path):
            continue
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        sheets += [
            (path, name)
            for name in names
            if name.startswith("xl/worksheets/") and name.endswith(".xml")
        ]
    return sheets


@needs_corpus
def test_value_extent_matches_regex_on_corpus() -> None:
    sheets = corpus_sheets()
    assert sheets
    for path, part in sheets:
        with zipfile.ZipFile(path) as archive:
            scanner = limits_module._scan_in_c(archive, part)
            by_regex = limits_module._value_extent_by_regex(archive, part)
        assert scanner.value_extent() == (by_regex, False), f"{path.name} {part}"


def bomb(tmp_path: Path, first_row: bytes) -> Path:
    """Write a sheet with ``first_row`` and a value in row 1,000."""
    rows = [first_row + b'<row r="1000"><c r="A1000"><v>1</v></c></row>']
    return write_workbook(tmp_path / "bomb.xlsx", rows, "A1")


@pytest.mark.parametrize(
    ("first_row", "columns"),
    [
        (
            b'<row r="1"><c r="A1"><v>1</v></c>' + b"<c><v>1</v></c>" * 200 + b"</row>",
            201,
        ),
        (b'<row r="1">' + b'<c x:r="A1"><v>1</v></c>' * 200 + b"</row>", 200),
        (b'<row r="1"><c r="A1" r="GR1"><v>1</v></c></row>', 200),
    ],
    ids=["cells-without-r", "prefixed-r", "repeated-r"],
)
def test_cells_placed_by_position_are_rejected(
    tmp_path: Path, first_row: bytes, columns: int
) -> None:
    path = bomb(tmp_path, first_row)
    assert calamine_extent(path) == (1000, columns)
    with pytest.raises(UnsafeContentError, match=f"1,000 rows by {columns} columns"):
        load_file(path, limits=WorkbookLimits(max_cells=10_000)).validate()


def test_check_uses_regex_scan_without_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [b'<row r="1"><c r="A1"><v>1</v></c><c r="CV1000"><v>2</v></c></row>']
    path = write_workbook(tmp_path / "wide.xlsx", rows, "A1:XFD1048576")
    monkeypatch.setattr(limits_module, "_sheetscan", None)
    with pytest.raises(UnsafeContentError, match="1,000 rows by 100 columns"):
        load_file(path, limits=WorkbookLimits(max_cells=10_000)).validate()


def with_doctype(path: Path) -> Path:
    """Rewrite the workbook at ``path`` with a DOCTYPE, so the C scan is unsure."""
    rewritten = path.with_name("doctype-" + path.name)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("sheet1.xml"):
                data = data.replace(b"<worksheet", b"<!DOCTYPE worksheet><worksheet", 1)
            target.writestr(info, data)
    return rewritten


@pytest.mark.parametrize("fallback", ["doctype", "no-c-module"])
@pytest.mark.parametrize(
    "first_row",
    [
        b'<row r="1"><c r="A1"><v>1</v></c>' + b"<c><v>1</v></c>" * 200 + b"</row>",
        b'<row r="1">' + b'<c x:r="A1"><v>1</v></c>' * 200 + b"</row>",
        b'<row r="1"><c r="A1" r="GR1"><v>1</v></c></row>',
    ],
    ids=["cells-without-r", "prefixed-r", "repeated-r"],
)
def test_python_fallback_rejects_unplaced_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_row: bytes, fallback: str
) -> None:
    path = bomb(tmp_path, first_row)
    if fallback == "doctype":
        path = with_doctype(path)
    else:
        monkeypatch.setattr(limits_module, "_sheetscan", None)
    with pytest.raises(UnsafeContentError, match="no reference or more than one"):
        load_file(path, limits=WorkbookLimits(max_cells=10_000)).validate()


@pytest.mark.parametrize("fallback", ["doctype", "no-c-module"])
def test_python_fallback_accepts_narrow_unreferenced_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fallback: str
) -> None:
    # 100 rows of 5 cells without references: a 100 x 5 grid, far below
    # the limit, even though the sheet holds 500 such cells in all.
    rows = [b"<row>" + b"<c><v>1</v></c>" * 5 + b"</row>"] * 100
    path = write_workbook(tmp_path / "plain.xlsx", rows, "A1:E100")
    if fallback == "doctype":
        path = with_doctype(path)
    else:
        monkeypatch.setattr(limits_module, "_sheetscan", None)
    load_file(path, limits=WorkbookLimits(max_cells=1_000)).validate()
