"""Typed CSV rows: per-column converters chosen from a sample of the file."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import islice, zip_longest
from typing import Any, cast

INTEGER_SYNTAX = r"[+-]?(?:0|[1-9][0-9]*)"
DECIMAL_SYNTAX = r"[+-]?(?:0|[1-9][0-9]*)?\.[0-9]+(?:[eE][+-]?[0-9]+)?"
INTEGER = re.compile(INTEGER_SYNTAX)
DECIMAL = re.compile(DECIMAL_SYNTAX)
# The same rules over a column's non-empty values joined by newlines, so one
# match decides a column. Each line must be a whole value, which holds only
# when no value contains a newline. The possessive repeats never backtrack.
INTEGER_LINES = re.compile(rf"(?:{INTEGER_SYNTAX}\n)*+{INTEGER_SYNTAX}")
DECIMAL_LINES = re.compile(rf"(?:{DECIMAL_SYNTAX}\n)*+{DECIMAL_SYNTAX}")
# A line that is a number, in values joined by newlines with one newline
# added before the first and after the last.
NUMBER_LINE = re.compile(rf"\n(?:{INTEGER_SYNTAX}|{DECIMAL_SYNTAX})(?=\n)")
DIGITS = "0123456789"

TEXT = "text"
INTEGER_COLUMN = "integer"
DECIMAL_COLUMN = "decimal"
MIXED = "mixed"

# int() and float() also accept spaces, underscores, digits of other scripts,
# "nan" and "inf", and ignore leading zeros. So a batch of a numeric column is
# converted with them only when its cells, joined by commas, contain none of
# those. Any other batch is converted cell by cell with convert_cell.
# Commas join the cells because a cell containing a comma fails int() and float(), while
# a newline would pass the check and be stripped by them.
BATCH_CHARACTERS = {
    INTEGER_COLUMN: b"0123456789+-,",
    DECIMAL_COLUMN: b"0123456789.eE+-,",
}
ColumnConverter = Callable[[tuple[str, ...]], Sequence[Any]]


def convert_cell(value: str) -> Any:
    """Convert one CSV field to int, float or None when it is plainly one."""
    if value == "":
        return None
    try:
        if INTEGER.fullmatch(value):
            return int(value)
        if DECIMAL.fullmatch(value):
            return float(value)
    except ValueError:  # more digits than int() converts
        return value
    return value


def convert_cells(values: Sequence[str | None]) -> list[Any]:
    """Convert fields as :func:`convert_cell` does, each distinct value once.

    None stays None. Codes and categories repeat a few values many times,
    so their columns convert with dictionary lookups, and equal text values
    then share one object.
    """
    distinct = set(values)
    if len(distinct) * 2 > len(values) and None not in distinct:
        return list(map(convert_cell, cast("Sequence[str]", values)))
    converted = {value: convert_cell(value) if value else None for value in distinct}
    return list(map(converted.__getitem__, values))


def _text(value: str) -> str | None:
    return value or None


def _plain(column: tuple[str, ...], allowed: bytes) -> bool:
    """Whether every cell of a column is a plain number or empty.

    Checks the characters and leading zeros of the cells joined by commas;
    the caller still converts with int() or float() and falls back on a
    ValueError, which catches the misplaced signs and points this allows.
    """
    text = "," + ",".join(column)
    if not text.isascii() or text.encode("ascii").translate(None, allowed):
        return False
    # A leading zero is a "0" that starts a cell, after any sign, and is
    # followed by more than a decimal point or the cell's end.
    unsigned = (text + ",").replace("-", "").replace("+", "")
    if unsigned.count(",0") != unsigned.count(",0.") + unsigned.count(",0,"):
        return False
    if b"." not in allowed:
        return True
    # float() also reads "5", "1e5" and "5." but convert_cell keeps those out
    # of a decimal column, so every non-empty cell needs one point and a digit
    # after it. A cell with two points fails float() and is caught there.
    if ".," in unsigned or ".e" in unsigned or ".E" in unsigned:
        return False
    return unsigned.count(".") == len(column) - column.count("")


def _numbers(function: Callable[[str], Any], allowed: bytes) -> ColumnConverter:
    """Build the converter of a numeric column: C loops for plain batches."""

    def convert(column: tuple[str, ...]) -> Sequence[Any]:
        if _plain(column, allowed):
            try:
                if "" in column:
                    return [function(value) if value else None for value in column]
                return list(map(function, column))
            except ValueError:
                pass  # a cell does not fit its column; convert cell by cell
        return convert_cells(column)

    return convert


def _texts(column: tuple[str, ...]) -> Sequence[Any]:
    return [value or None for value in column] if "" in column else column


class ColumnPlan:
    """How each column of a CSV file is converted to Python values.

    A batch of records whose field counts all match the header is
    transposed and converted column by column, with int() and float()
    mapped over a numeric column whose cells are all plain numbers; a
    column of a batch that holds anything else is converted cell by cell.
    Any other batch (blank or ragged records) is converted row by row.
    """

    __slots__ = ("_careful", "_columns", "_width", "kinds")

    def __init__(self, kinds: Sequence[str]) -> None:
        self.kinds = tuple(kinds)
        self._width = {len(self.kinds)}
        self._columns = tuple(_column_converter(kind) for kind in self.kinds)
        self._careful = tuple(_text if kind == TEXT else convert_cell for kind in kinds)

    def convert(self, batch: list[list[str]]) -> list[list[Any]]:
        """Convert a batch of records; blank records are left out."""
        if batch and set(map(len, batch)) == self._width:
            columns = [
                convert(column)
                for convert, column in zip(
                    self._columns, zip(*batch, strict=False), strict=True
                )
            ]
            return list(map(list, zip(*columns, strict=True)))
        return [self._convert_row(row) for row in batch if row]

    def _convert_row(self, row: list[str]) -> list[Any]:
        converters = self._careful
        if len(row) > len(converters):
            converters += (convert_cell,) * (len(row) - len(converters))
        return [convert(value) for convert, value in zip(converters, row, strict=False)]


def plan_columns(records: Sequence[Sequence[str]], width: int) -> ColumnPlan:
    """Choose each column's kind from sampled data records.

    A column whose non-empty sampled values are all plain integers is an
    integer column, all decimals a decimal column, none of either a text
    column; a column mixing them, or with no sampled values, is converted
    cell by cell.
    """
    # The cells that short records lack are empty, like the cells left out.
    columns = list(islice(zip_longest(*records, fillvalue=""), width))
    columns += [()] * (width - len(columns))
    return ColumnPlan([_kind(list(filter(None, column))) for column in columns])


def _kind(values: list[str]) -> str:
    if not values:
        return MIXED
    text = "\n".join(values)
    if text.count("\n") != len(values) - 1:
        return _kind_by_cell(values)
    if INTEGER_LINES.fullmatch(text):
        return INTEGER_COLUMN
    if DECIMAL_LINES.fullmatch(text):
        return DECIMAL_COLUMN
    return MIXED if _has_number_line(text) else TEXT


def _has_number_line(text: str) -> bool:
    """Return whether a line of ``text`` is a plain integer or decimal."""
    # Every number has a digit, so a text column without digits skips the
    # regex scan.
    if not any(digit in text for digit in DIGITS):
        return False
    return NUMBER_LINE.search(f"\n{text}\n") is not None


def _kind_by_cell(values: list[str]) -> str:
    """Choose the kind of a column whose values may contain newlines."""
    integers = sum(1 for value in values if INTEGER.fullmatch(value))
    if integers == len(values):
        return INTEGER_COLUMN
    decimals = sum(1 for value in values if DECIMAL.fullmatch(value))
    if decimals == len(values):
        return DECIMAL_COLUMN
    if integers == decimals == 0:
        return TEXT
    return MIXED


def _column_converter(kind: str) -> ColumnConverter:
    if kind == INTEGER_COLUMN:
        return _numbers(int, BATCH_CHARACTERS[INTEGER_COLUMN])
    if kind == DECIMAL_COLUMN:
        return _numbers(float, BATCH_CHARACTERS[DECIMAL_COLUMN])
    if kind == TEXT:
        return _texts
    return convert_cells
