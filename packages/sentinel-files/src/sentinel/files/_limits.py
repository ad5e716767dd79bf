"""Limits that keep a workbook's cells from exhausting memory, checked before reading.

python-calamine builds each sheet as one dense grid from its first to its
last cell that holds a value, so two values in ``A1`` and ``XFD1048576``
ask for 17 billion cells and abort the process. The checks below read the
ZIP directory and stream each sheet's XML in small chunks, so they cost
little memory whatever the file declares.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from sentinel.files._errors import UnsafeContentError
from sentinel.files._ooxml import column_number

CHUNK = 256 * 1024
HEAD = 4096
DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)?([0-9]+)?(?::([A-Z]+)([0-9]+))?"'
)
# Only rows carry an ``r`` attribute of bare digits, and only cells past
# column Z one with two or three letters; both patterns start with a
# literal, so the scan runs at the regex engine's search speed.
ROW_NUMBER = re.compile(rb'r="([0-9]+)"')
WIDE_COLUMN = re.compile(rb'r="([A-Z]{2,3})[0-9]')
# A cell with a value, formula or inline string; styled empty cells
# (``<c r="XFD9" s="1"/>``) do not widen calamine's grid.
VALUE_CELL = re.compile(
    rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]+)"[^>/]*>\s*<(?:\w+:)?(?:v|is|f)\b'
)
# Bytes from the end of one chunk that are searched again with the next,
# so a row or cell tag cut by the boundary is still matched.
# NOTE: a cell's opening tag longer than this, cut by a boundary, is missed
# by the second pass; real writers emit tags well under 100 bytes.
OVERLAP = 512


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    """How large a workbook may be before it is refused as a cell bomb.

    ``max_cells`` bounds one sheet's grid (rows times columns between its
    first and last value). ``max_part_bytes`` bounds the uncompressed size
    of a sheet or the shared strings, and ``max_ratio`` their compression
    ratio once they pass ``ratio_floor`` bytes (small parts may compress
    any amount).
    """

    max_cells: int = 20_000_000
    max_part_bytes: int = 1 << 30
    max_ratio: float = 100.0
    ratio_floor: int = 16 << 20


DEFAULT_LIMITS = WorkbookLimits()


def check_package(archive: zipfile.ZipFile, limits: WorkbookLimits, path: str) -> None:
    """Refuse sheet and shared-string parts too large or too compressed to read."""
    for info in archive.infolist():
        name = info.filename
        if not name.startswith("xl/") or not name.endswith(".xml"):
            continue
        if info.file_size > limits.max_part_bytes:
            raise _bomb(
                path,
                f"part {name} unpacks to {_size(info.file_size)}, more than the "
                f"limit of {_size(limits.max_part_bytes)}",
                "max_part_bytes",
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            raise _bomb(
                path,
                f"part {name} unpacks to {_size(info.file_size)} from "
                f"{_size(info.compress_size)}, a compression ratio of {ratio:.0f} "
                f"where the limit is {limits.max_ratio:.0f}",
                "max_ratio",
            )


def declared_cells(archive: zipfile.ZipFile, part: str) -> int | None:
    """Return the cell count of a sheet's declared ``<dimension>``, if any."""
    with archive.open(part) as stream:
        head = stream.read(HEAD)
    match = DIMENSION.search(head)
    if match is None or match.group(3) is None:
        return None
    first_col, first_row, last_col, last_row = match.groups()
    columns = column_number(last_col.decode()) - column_number(
        (first_col or b"A").decode()
    )
    rows = int(last_row) - int(first_row or b"1")
    return (abs(rows) + 1) * (abs(columns) + 1)


def check_sheet(
    archive: zipfile.ZipFile, part: str, sheet: str, limits: WorkbookLimits, path: str
) -> None:
    """Refuse a sheet whose grid of values would pass ``limits.max_cells``.

    A first pass bounds the grid by the largest row number and column
    letters anywhere in the sheet. Only when that bound or the declared
    dimension passes the limit, which files that style whole empty rows and
    columns do, a second pass measures the grid between the cells that hold
    values. The declared dimension alone never decides: real files declare
    ``A1:XFD1048576`` for a few values, and a bomb may declare ``A1``.
    """
    declared = declared_cells(archive, part)
    if declared is None or declared <= limits.max_cells:
        rows, columns = _outer_bounds(archive, part)
        if rows * columns <= limits.max_cells:
            return
    extent = _value_extent(archive, part)
    if extent is None:
        return
    cells = extent[0] * extent[1]
    if cells > limits.max_cells:
        raise _bomb(
            path,
            f"sheet {sheet!r} spans {extent[0]:,} rows by {extent[1]:,} columns "
            f"between its values, {cells:,} cells where the limit is "
            f"{limits.max_cells:,}",
            "max_cells",
            sheet=sheet,
        )


def _outer_bounds(archive: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """Bound a sheet's rows and columns by every row and cell it lists.

    Rows without a number follow the previous one, so the count of
    ``<row`` elements bounds them (numbered rows are found with any
    prefix); cells without a reference follow each other without gaps, and
    the part size limit bounds them.
    """
    last_row = 1
    row_elements = 0
    widest = b""
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(CHUNK):
            data = tail + chunk
            row_elements += chunk.count(b"<row")
            rows = ROW_NUMBER.findall(data)
            if rows:
                last_row = max(last_row, *map(int, rows))
            wide = WIDE_COLUMN.findall(data)
            if wide:
                widest = max(widest, *wide, key=_column_key)
            tail = data[-OVERLAP:]
    columns = column_number(widest.decode()) if widest else 26
    return max(last_row, row_elements), columns


def _value_extent(archive: zipfile.ZipFile, part: str) -> tuple[int, int] | None:
    top = left = 1 << 30
    bottom = right = 0
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(CHUNK):
            data = tail + chunk
            for letters, number in VALUE_CELL.findall(data):
                row, column = int(number), column_number(letters.decode())
                top, bottom = min(top, row), max(bottom, row)
                left, right = min(left, column), max(right, column)
            # Keep the end that may hold a cut cell; a cell matched twice
            # across the boundary changes no bound.
            tail = data[-OVERLAP:]
    if not bottom:
        return None
    return bottom - top + 1, right - left + 1


def _column_key(letters: bytes) -> tuple[int, bytes]:
    return len(letters), letters


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    amount = float(count)
    for unit in ("KiB", "MiB", "GiB"):
        amount /= 1024
        if amount < 1024 or unit == "GiB":
            break
    return f"{amount:.1f} {unit}"


def _bomb(
    path: str, what: str, limit: str, sheet: str | None = None
) -> UnsafeContentError:
    return UnsafeContentError(
        f"{path}: the workbook is refused as a cell bomb: {what}",
        code="cell-bomb",
        hint=f"Remove empty rows and columns or split the workbook; if the file "
        f"is genuine, raise the {limit} limit of the XLSX reader.",
        location={"sheet": sheet} if sheet else None,
    )
