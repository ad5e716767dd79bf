"""The C sheet scanner: bounds of calamine's grid from a sheet's r attributes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentinel.files import UnsafeContentError, WorkbookLimits, load_file
from sentinel.files import _limits as limits_module

from .xlsx_bombs import corner_rows, narrow_rows, repeated_rows, write_workbook

sheetscan = pytest.importorskip(
    "sentinel.files._sheetscan",
    reason="the C sheet scanner is not compiled; reinstall sentinel-files with a "
    "C compiler present",
)


def bounds(xml: bytes, chunk: int | None = None) -> tuple[int, int, bool]:
    scanner = sheetscan.SheetScanner()
    step = chunk or len(xml) or 1
    for start in range(0, len(xml), step):
        scanner.feed(xml[start : start + step])
    result: tuple[int, int, bool] = scanner.bounds()
    return result


SHEET = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<worksheet xmlns="main"><dimension ref="A1"/><sheetData>'
    b'<row r="1" spans="1:3"><c r="A1" s="1" t="s"><v>0</v></c>'
    b'<c r="C1"><is><t>a "quoted" &lt;tag&gt;</t></is></c></row>'
    b"<x:row r = '7'><x:c r='b7'><x:v>2</x:v></x:c></x:row>"
    b"</sheetData></worksheet>"
)


def test_scanner_reads_rows_and_columns() -> None:
    assert bounds(SHEET) == (7, 3, False)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64], ids=lambda size: f"{size}B")
def test_scanner_result_does_not_depend_on_chunks(chunk: int) -> None:
    assert bounds(SHEET, chunk) == bounds(SHEET)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (b'<c r="cv1000">', (1001, 100)),
        (b"<c r='CV1000'>", (1001, 100)),
        (b'<c r = "CV1000">', (1001, 100)),
        (b'<c\n\tr="CV1000">', (1001, 100)),
        (b'<c r="AAAA1">', (2, 18_279)),
        (b'<c r="XFD1048576">', (1_048_577, 16_384)),
        (b'<c r="A99999999999999999999">', (10**15, 1)),
    ],
    ids=[
        "lowercase",
        "single-quotes",
        "spaces",
        "tab",
        "four-letters",
        "corner",
        "cap",
    ],
)
def test_scanner_reads_every_reference_form(
    cell: bytes, expected: tuple[int, int]
) -> None:
    # The row element has no number, so it may add one row; numbers
    # saturate at 10**15.
    assert bounds(b"<row>" + cell + b"<v>1</v></c></row>")[:2] == expected


def test_unnumbered_rows_and_cells_widen_the_bound() -> None:
    xml = (
        b'<row r="5"><c r="B5"/></row>'
        b"<row><c/><c/><c/></row>"
        b"<row/>"
        b'<row r="6"><c r="A6"/><c/></row>'
    )
    # Two rows without a number may follow row 6; one row has three cells
    # without a reference after column B.
    assert bounds(xml) == (8, 5, False)


@pytest.mark.parametrize(
    "hidden",
    [
        b'<!-- <row r="1048576"><c r="XFD1048576"/></row> -->',
        b'<![CDATA[ <c r="XFD1048576"> ]]>',
        b'<?sentinel <c r="XFD1048576"> ?>',
        b'<t>r="XFD1048576"</t>',
    ],
    ids=["comment", "cdata", "processing-instruction", "text"],
)
def test_markup_that_calamine_skips_is_skipped(hidden: bytes) -> None:
    xml = b'<row r="2"><c r="B2">' + hidden + b"</c></row>"
    assert bounds(xml) == (2, 2, False)


@pytest.mark.parametrize(
    "hidden",
    [
        b'<!-- a \' quote --><row r="9"/>',
        b'<![CDATA[ " ]]><row r="9"/>',
        b"<c a='>'/><row r=\"9\"/>",
    ],
    ids=["quote-in-comment", "quote-in-cdata", "angle-in-value"],
)
def test_quotes_in_skipped_markup_hide_no_row(hidden: bytes) -> None:
    assert bounds(hidden)[0] == 9


@pytest.mark.parametrize(
    "xml",
    [
        b'<!DOCTYPE worksheet [<!ENTITY a "b">]><row r="1"/>',
        b"<row r><c/></row>",
        b'<row "1"/>',
        b"<c r=1/>",
    ],
    ids=["doctype", "attribute-without-value", "value-without-name", "unquoted"],
)
def test_scanner_is_unsure_of_unusual_xml(xml: bytes) -> None:
    assert bounds(xml)[2] is True


FRAGMENTS = [
    b'<row r="12">',
    b"<row>",
    b"</row>",
    b'<c r="AB3" s="1">',
    b"<c r='z99'>",
    b"<c>",
    b"<c/>",
    b"</c>",
    b"<v>7</v>",
    b'<x:c r = "Q5"/>',
    b"<!-- c r='ZZ9' -->",
    b'<![CDATA[ <row r="5"> ]]>',
    b"<?pi r='ZZ1'?>",
    b'<t a=">">text</t>',
    b"&lt;c r=&quot;XFD1&quot;&gt;",
    b"  \n\t",
    b"<sheetData>",
    b"<row/>",
    b"</x:row >",
    b'<c r="D4" r="b2" s="1">',
    b"<a:b:c r='E5'>",
    b'<c x:r="F6">',
    b"<x:is>",
    b"<f/>",
    b"<v=x>",
]


@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=40),
    st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=20),
)
def test_chunk_boundaries_never_change_bounds(
    fragments: list[bytes], sizes: list[int]
) -> None:
    xml = b"".join(fragments)
    scanner = sheetscan.SheetScanner()
    start = 0
    index = 0
    while start < len(xml):
        size = sizes[index % len(sizes)]
        scanner.feed(xml[start : start + size])
        start += size
        index += 1
    whole = sheetscan.SheetScanner()
    whole.feed(xml)
    assert scanner.bounds() == whole.bounds()
    assert scanner.value_extent() == whole.value_extent()


def test_scanner_takes_no_arguments() -> None:
    with pytest.raises(TypeError):
        sheetscan.SheetScanner(1)


def sheet_part(path: Path) -> tuple[zipfile.ZipFile, str]:
    return zipfile.ZipFile(path), "xl/worksheets/sheet1.xml"


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("corner", corner_rows()),
        ("repeated", list(repeated_rows(300))),
        ("narrow", list(narrow_rows(5000))),
    ],
    ids=["corner", "repeated", "narrow"],
)
def test_c_bound_is_within_the_python_bound(
    tmp_path: Path, name: str, rows: list[bytes]
) -> None:
    archive, part = sheet_part(write_workbook(tmp_path / f"{name}.xlsx", rows, "A1"))
    with archive:
        scanner = limits_module._scan_in_c(archive, part)
        by_c = limits_module._outer_bounds(archive, part, 20_000_000, scanner)
        by_python = limits_module._outer_bounds_by_shape(archive, part, 20_000_000)
    assert by_c[0] <= by_python[0]
    assert by_c[0] * by_c[1] <= by_python[0] * by_python[1]


def test_large_sheet_is_scanned_in_two_threads(tmp_path: Path) -> None:
    # Past PIPELINE_BYTES the sheet is inflated and scanned concurrently.
    rows = list(narrow_rows(40_000))
    path = write_workbook(tmp_path / "large.xlsx", rows, "A1")
    archive, part = sheet_part(path)
    with archive:
        assert archive.getinfo(part).file_size > limits_module.PIPELINE_BYTES
        scanner = limits_module._scan_in_c(archive, part)
    assert scanner.bounds() == (40_000, 3, False)
    assert scanner.value_extent() == ((40_000, 3), False)


def test_doctype_sheet_falls_back_to_the_python_scan(tmp_path: Path) -> None:
    rows = [
        b'<row r="1"><c r="A1"><v>1</v></c></row>'
        b'<row r="2000"><c r="CV2000"><v>2</v></c></row>'
    ]
    path = write_workbook(tmp_path / "doctype.xlsx", rows, "A1")
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    doctype = xml.replace(b"<worksheet", b"<!DOCTYPE worksheet><worksheet", 1)
    rewritten = tmp_path / "doctype2.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for info in source.infolist():
            data = (
                doctype if info.filename.endswith("sheet1.xml") else source.read(info)
            )
            target.writestr(info, data)
    with pytest.raises(UnsafeContentError, match="2,000 rows by 100 columns"):
        load_file(rewritten, limits=WorkbookLimits(max_cells=10_000)).validate()
