"""CSV and TSV files: encoding and dialect detection, lazily read rows."""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from sentinel.files._base import DataFile
from sentinel.files._dialect import Dialect, detect_dialect
from sentinel.files._encoding import detect_encoding
from sentinel.files._errors import InvalidFileError

SAMPLE_CHARS = 64 * 1024
MAX_ROW_WARNINGS = 20
INTEGER = re.compile(r"[+-]?(0|[1-9][0-9]*)")
DECIMAL = re.compile(r"[+-]?(0|[1-9][0-9]*)?\.[0-9]+([eE][+-]?[0-9]+)?")

# Some real files hold cells far above the csv module's 128 KiB default.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class CsvFile(DataFile):
    """A delimited text file with a header row.

    Loading detects the encoding and dialect and counts the records in one
    pass; :meth:`rows` and :meth:`records` read the file again lazily.
    Values stay text ("NA", "0123" and "no" are kept as written);
    :meth:`typed_rows` converts plain numbers on the fly.
    """

    __slots__ = (
        "blank_rows",
        "comment_lines",
        "dialect",
        "encoding",
        "encoding_reason",
        "header",
        "line_ending",
        "row_count",
    )

    format = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv",)
    fixed_delimiter: ClassVar[str | None] = None

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.encoding = "utf-8"
        self.encoding_reason = ""
        self.dialect = Dialect(",")
        self.comment_lines = 0
        self.header: list[str] = []
        self.row_count = 0
        self.blank_rows = 0
        self.line_ending = "LF"

    def _parse(self) -> None:
        guess = detect_encoding(self.path)
        self.encoding, self.encoding_reason = guess.encoding, guess.reason
        sample, complete = self._read_sample()
        self.line_ending = _line_ending(sample)
        self.dialect = detect_dialect(sample, complete, self.fixed_delimiter)
        records = self._records()
        try:
            self.header = next(records)
        except StopIteration:
            raise InvalidFileError(
                f"{self.path}: no header row; the file holds only blank or "
                f"comment lines",
                code="no-header",
                hint="Add a header row naming the columns.",
            ) from None
        self._count(records)

    def _read_sample(self) -> tuple[str, bool]:
        with self._open() as stream:
            lines = _skip_comments(stream)
            self.comment_lines = lines.count
            sample = "".join(_take(lines, SAMPLE_CHARS))
            complete = stream.read(1) == ""
        return sample, complete

    def _open(self) -> Any:
        return self.path.open(encoding=self.encoding, newline="")

    def _records(self) -> Iterator[list[str]]:
        try:
            with self._open() as stream:
                reader = csv.reader(
                    _skip_comments(stream), **self.dialect.reader_options()
                )
                for record in reader:
                    if record:
                        yield record
        except UnicodeDecodeError as exc:
            raise InvalidFileError(
                f"{self.path}: byte {exc.object[exc.start : exc.end]!r} at offset "
                f"{exc.start} of a read block is not valid {self.encoding}",
                code="encoding",
                hint="Save the file as UTF-8.",
            ) from None
        except csv.Error as exc:
            raise InvalidFileError(
                f"{self.path}: invalid CSV: {exc}",
                code="csv-syntax",
                hint="Check the quoting around the reported line.",
            ) from None

    def _count(self, records: Iterable[list[str]]) -> None:
        width = len(self.header)
        ragged = 0
        for number, record in enumerate(records, start=1):
            self.row_count = number
            if not any(record):
                self.blank_rows += 1
            if len(record) != width:
                ragged += 1
                if ragged <= MAX_ROW_WARNINGS:
                    self._warn_ragged(number, len(record), width)
        if ragged > MAX_ROW_WARNINGS:
            self.warn(
                "ragged-rows",
                f"{ragged} rows in all have a field count other than {width}; "
                f"only the first {MAX_ROW_WARNINGS} are listed",
            )
        if self.blank_rows:
            self.warn(
                "empty-rows",
                f"{self.blank_rows} rows have only empty fields",
                hint="Remove trailing rows of bare delimiters if they are not data.",
            )

    def _warn_ragged(self, row: int, fields: int, width: int) -> None:
        kind = "short" if fields < width else "long"
        self.warn(
            "ragged-row",
            f"row {row} has {fields} fields but the header has {width}",
            hint=f"The row is too {kind}; check for a missing or extra delimiter.",
            row=row,
        )

    def rows(self) -> Iterator[list[str]]:
        """Yield the data rows (header excluded) as lists of text, lazily."""
        records = self._records()
        next(records, None)
        yield from records

    def records(self) -> Iterator[dict[str, str]]:
        """Yield the data rows as dicts keyed by the header, lazily.

        Fields beyond the header are dropped and missing ones are empty.
        """
        header = self.header
        for row in self.rows():
            padded = row + [""] * (len(header) - len(row))
            yield dict(zip(header, padded, strict=False))

    def typed_rows(self) -> Iterator[list[Any]]:
        """Yield data rows with plain numbers converted, lazily.

        Empty fields become None. Numbers with leading zeros ("0123"),
        thousands separators or decimal commas stay text, and so does "NA".
        """
        for row in self.rows():
            yield [convert_cell(value) for value in row]

    def _describe(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "encoding_reason": self.encoding_reason,
            "delimiter": self.dialect.delimiter,
            "dialect": self.dialect.reason,
            "line_ending": self.line_ending,
            "comment_lines": self.comment_lines,
            "header": list(self.header),
            "rows": self.row_count,
            "columns": len(self.header),
        }


class TsvFile(CsvFile):
    """A tab-separated values file; the delimiter is always a tab."""

    __slots__ = ()

    format = "tsv"
    extensions = (".tsv", ".tab")
    fixed_delimiter = "\t"


def convert_cell(value: str) -> Any:
    """Convert one CSV field to int, float or None when it is plainly one."""
    if value == "":
        return None
    if INTEGER.fullmatch(value):
        return int(value)
    if DECIMAL.fullmatch(value):
        return float(value)
    return value


class _CommentSkipper:
    """Iterate lines, dropping the ``#`` comment lines before the header."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.count = 0
        self._first: str | None = None
        for line in self._lines:
            if line.startswith("#"):
                self.count += 1
                continue
            self._first = line
            break

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self._first is not None:
            line, self._first = self._first, None
            return line
        return next(self._lines)


def _skip_comments(stream: Iterable[str]) -> _CommentSkipper:
    return _CommentSkipper(stream)


def _take(lines: Iterator[str], limit: int) -> Iterator[str]:
    taken = 0
    for line in lines:
        yield line
        taken += len(line)
        if taken >= limit:
            return


def _line_ending(sample: str) -> str:
    crlf = sample.count("\r\n")
    bare = sample.count("\n") - crlf
    if crlf and bare:
        return "mixed"
    return "CRLF" if crlf else "LF"
