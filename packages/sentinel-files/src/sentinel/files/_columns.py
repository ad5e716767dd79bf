"""Typed CSV rows: per-column converters chosen from a sample of the file."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

INTEGER = re.compile(r"[+-]?(0|[1-9][0-9]*)")
DECIMAL = re.compile(r"[+-]?(0|[1-9][0-9]*)?\.[0-9]+([eE][+-]?[0-9]+)?")

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
Converter = Callable[[list[str]], list[Any]]


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


def _text(value: str) -> str | None:
    return value or None


@dataclass(frozen=True, slots=True)
class _BatchCheck:
    """The cells of the columns of one kind, checked as one string per batch."""

    cells: Callable[[list[str]], Any]
    several: bool
    allowed: bytes

    def passes(self, batch: list[list[str]]) -> bool:
        cells = map(self.cells, batch)
        text = "," + ",".join(chain.from_iterable(cells) if self.several else cells)
        if not text.isascii() or text.encode("ascii").translate(None, self.allowed):
            return False
        # A leading zero is a "0" that starts a cell, after any sign, and is
        # followed by more than a decimal point or the cell's end.
        unsigned = (text + ",").replace("-", "").replace("+", "")
        return unsigned.count(",0") == unsigned.count(",0.") + unsigned.count(",0,")


class ColumnPlan:
    """How each column of a CSV file is converted to Python values.

    A batch of records whose field counts match the header and whose
    numeric columns hold only plain numbers goes through one converter
    compiled for the columns; any other batch is converted cell by cell.
    """

    __slots__ = ("_careful", "_checks", "_fast", "_width", "kinds")

    def __init__(self, kinds: Sequence[str], sparse: Sequence[bool] = ()) -> None:
        self.kinds = tuple(kinds)
        self._width = {len(self.kinds)}
        self._fast = _compile(self.kinds, sparse or [True] * len(self.kinds))
        self._careful = tuple(_text if kind == TEXT else convert_cell for kind in kinds)
        self._checks = tuple(
            _check(kind, [i for i, each in enumerate(kinds) if each == kind])
            for kind in (INTEGER_COLUMN, DECIMAL_COLUMN)
            if kind in self.kinds
        )

    def convert(self, batch: list[list[str]]) -> list[list[Any]]:
        """Convert a batch of records; blank records are left out."""
        if set(map(len, batch)) == self._width and all(
            check.passes(batch) for check in self._checks
        ):
            try:
                return list(map(self._fast, batch))
            except ValueError:
                pass  # a cell does not fit its column; convert cell by cell
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
    kinds = []
    sparse = []
    for index in range(width):
        cells = [record[index] for record in records if len(record) > index]
        values = [cell for cell in cells if cell != ""]
        kinds.append(_kind(values))
        sparse.append(len(values) < len(cells))
    return ColumnPlan(kinds, sparse)


def _kind(values: list[str]) -> str:
    if not values:
        return MIXED
    integers = sum(1 for value in values if INTEGER.fullmatch(value))
    if integers == len(values):
        return INTEGER_COLUMN
    decimals = sum(1 for value in values if DECIMAL.fullmatch(value))
    if decimals == len(values):
        return DECIMAL_COLUMN
    if integers == decimals == 0:
        return TEXT
    return MIXED


def _check(kind: str, columns: list[int]) -> _BatchCheck:
    return _BatchCheck(itemgetter(*columns), len(columns) > 1, BATCH_CHARACTERS[kind])


def _compile(kinds: Sequence[str], sparse: Sequence[bool]) -> Converter:
    """Build one function that converts a whole record of ``kinds``.

    One expression per column inside a single list display avoids a Python
    call per cell. A numeric column without empty cells in the sample skips
    the test for them: an empty cell fails int() or float(), and its batch
    is converted cell by cell. The source holds only column numbers and the
    names below, never file content.
    """
    cells = []
    for index, (kind, empties) in enumerate(zip(kinds, sparse, strict=True)):
        cell = f"r[{index}]"
        function = {INTEGER_COLUMN: "int", DECIMAL_COLUMN: "float"}.get(kind)
        if kind == TEXT:
            cells.append(f"{cell} or None")
        elif function and empties:
            cells.append(f"{function}({cell}) if {cell} else None")
        elif function:
            cells.append(f"{function}({cell})")
        else:
            cells.append(f"convert({cell})")
    source = f"lambda r: [{', '.join(cells)}]"
    names = {"__builtins__": {}, "int": int, "float": float, "convert": convert_cell}
    converter: Converter = eval(source, names)  # noqa: S307 - generated, see above
    return converter
