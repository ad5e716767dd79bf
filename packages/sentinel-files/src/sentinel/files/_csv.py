"""CSV and TSV files: encoding and dialect detection, lazily read rows."""

from __future__ import annotations

import csv
import importlib.util
import io
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, islice
from pathlib import Path
from typing import Any, ClassVar, TextIO

from sentinel.files._base import DataFile
from sentinel.files._columns import ColumnPlan, convert_cell, plan_columns
from sentinel.files._dialect import Dialect, read_dialect
from sentinel.files._encoding import detect_encoding, find_nul
from sentinel.files._errors import InvalidFileError

__all__ = ["CsvFile", "TsvFile", "convert_cell"]

SAMPLE_CHARS = 64 * 1024
# Records handed from the csv module to the converters at a time: large
# enough that per-batch checks cost little per row, small enough to stream.
BATCH_ROWS = 2048
MAX_ROW_WARNINGS = 20
# The markers that na_values=True reads as missing. "NA" is among them, so a
# column of country codes loses Namibia: the option is off by default.
NA_VALUES = ("", "#N/A", "N/A", "NA", "NULL", "NaN", "\\N", "n/a", "null")

# The record parsers of typed_rows: "auto" uses pyarrow when it reads the
# file exactly as the csv module does, and "python" always uses the csv module.
ENGINES = ("auto", "python")
# pyarrow reads UTF-8 itself and decodes the single-byte encodings with
# Python's codecs, so it reads the same text as the csv module.
ARROW_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "cp1252", "latin-1", "iso-8859-7"})
# Control characters that text files rarely contain: C0 and C1 controls
# other than tab, line feed, vertical tab, form feed and carriage return.
BINARY_CONTROLS = "".join(
    chr(code)
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]
    if chr(code) not in "\t\n\v\f\r"
)
# A sample in which at least this share of the characters, and at least
# MIN_BINARY_CONTROLS of them, are such controls is taken for binary data.
# Random bytes read as cp1252 give about 11% (28 of 256 byte values) and
# as latin-1 about 23% (60 of 256).
BINARY_SHARE = 0.05
MIN_BINARY_CONTROLS = 8
# Counting with a character class took 0.17 ms on a 64 KiB sample, where
# str.translate with a deletion table took 3.2 ms.
CONTROL = re.compile(f"[{re.escape(BINARY_CONTROLS)}]")
NOT_TEXT_HINT = (
    "This is not a text file; check the export, and send the CSV file itself "
    "saved as UTF-8."
)

# The line endings that a text stream opened with newline="" splits on.
LINE_BREAK = re.compile(r"\r\n|\r|\n")
UNTERMINATED_QUOTE_HINT = (
    "Close the quoted field with a second quote. A quote inside a quoted "
    'field is written twice ("").'
)

logger = logging.getLogger(__name__)

# Some real files hold cells far above the csv module's 128 KiB default.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class CsvFile(DataFile):
    """A delimited text file with a header row.

    Loading detects the encoding and dialect from the first part of the file
    and reads the header; :meth:`rows`, :meth:`records` and
    :meth:`typed_rows` stream the records. The record count, blank and
    ragged rows are counted on first use of :attr:`row_count`,
    :meth:`summary` or :meth:`validate`, which read the whole file once.
    Values stay text ("NA", "0123" and "no" are kept as written);
    :meth:`typed_rows` converts plain numbers on the fly.

    ``na_values`` turns missing-value markers into None in :meth:`records`
    and :meth:`typed_rows`: ``True`` for :data:`NA_VALUES` (``NA``, ``N/A``,
    ``NULL``, ``\\N``, empty and a few more), or the exact strings to use.
    It is off by default. :meth:`rows` always yields the fields as written.
    """

    __slots__ = (
        "_blank_rows",
        "_encoding_sampled",
        "_na",
        "_nul_checked",
        "_plan",
        "_row_count",
        "_sample",
        "_sample_complete",
        "_sample_records",
        "_sample_rows",
        "comment_lines",
        "dialect",
        "encoding",
        "encoding_reason",
        "header",
        "line_ending",
    )

    format = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv",)
    fixed_delimiter: ClassVar[str | None] = None
    options = ("na_values",)

    def __init__(
        self, path: Path, *, na_values: bool | Iterable[str] | None = None
    ) -> None:
        super().__init__(path)
        self._na = _na_set(na_values)
        self.encoding = "utf-8"
        self.encoding_reason = ""
        self._encoding_sampled = False
        self.dialect = Dialect(",")
        self.comment_lines = 0
        self.header: list[str] = []
        self.line_ending = "LF"
        self._row_count = 0
        self._blank_rows = 0
        self._sample = ""
        self._sample_complete = False
        self._sample_records: Iterator[list[str]] | None = None
        self._sample_rows: list[list[str]] | None = None
        self._plan: ColumnPlan | None = None
        self._nul_checked = False

    def _parse(self) -> None:
        guess = detect_encoding(self.path, whole_file=False)
        self.encoding, self.encoding_reason = guess.encoding, guess.reason
        self._encoding_sampled = guess.encoding == "utf-8"
        self._read_start()

    def _read_start(self) -> None:
        """Read the sample, detect the dialect and read the header row."""
        self._sample, self._sample_complete = self._read_sample()
        self._check_sample_text()
        self.line_ending = _line_ending(self._sample)
        self.dialect, self._sample_records = read_dialect(
            self._sample, self._sample_complete, self.fixed_delimiter
        )
        self._plan = None
        self._sample_rows = None
        with self._reader() as reader:
            header = next(filter(None, reader), None)
        if header is None:
            raise InvalidFileError(
                f"{self.path}: no header row; the file holds only blank or "
                f"comment lines",
                code="no-header",
                hint="Add a header row naming the columns.",
            )
        self.header = header

    def _read_sample(self) -> tuple[str, bool]:
        with self._open() as stream:
            self.comment_lines, lines = _skip_comments(stream)
            sample = "".join(_take(lines, SAMPLE_CHARS))
            complete = stream.read(1) == ""
        return sample, complete

    def _open(self) -> TextIO:
        return self.path.open(encoding=self.encoding, newline="")

    @contextmanager
    def _reader(self) -> Iterator[Iterator[list[str]]]:
        """Open the file and give a csv reader of every record after comments.

        Blank lines come out as empty lists. Decoding and syntax errors while
        the reader is used become :class:`InvalidFileError`.
        """
        try:
            with self._open() as stream:
                _, lines = _skip_comments(stream)
                yield self._records(lines)
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

    def _records(self, lines: Iterator[str]) -> Iterator[list[str]]:
        """Yield the csv module's records of ``lines``, which follow the comments.

        The csv module, when not strict, returns a quoted field left open at
        the end of the file as one last field holding the rest of the file.
        Such a record raises :class:`InvalidFileError` here instead.
        """
        ended: list[bool] = []
        reader = csv.reader(_mark_end(lines, ended), **self.dialect.reader_options())
        for record in reader:
            if ended:
                raise self._unterminated_quote(record, reader.line_num)
            yield record

    def _unterminated_quote(self, record: list[str], lines_read: int) -> Exception:
        """Build the error for ``record``, whose last field ran to the end."""
        field = record[-1]
        breaks = len(LINE_BREAK.findall(field))
        # The field contains the text after the opening quote up to the end,
        # so its line breaks count the lines from the quote's line on.
        ends_with_break = field.endswith(("\r", "\n"))
        line = self.comment_lines + lines_read - breaks + int(ends_with_break)
        quote = self.dialect.quotechar
        return InvalidFileError(
            f"{self.path}: unterminated quoted field: the {quote} that opens "
            f"field {len(record)} of the record on line {line} is never closed, "
            f"so the rest of the file would read as one field",
            code="csv-unterminated-quote",
            hint=UNTERMINATED_QUOTE_HINT,
            location={"row": line},
        )

    def _check_sample_text(self) -> None:
        """Raise InvalidFileError when the sample contains NUL or is binary data."""
        sample = self._sample
        if "\x00" in sample:
            self._check_nul()
        controls = len(CONTROL.findall(sample))
        if controls >= MIN_BINARY_CONTROLS and controls >= BINARY_SHARE * len(sample):
            raise InvalidFileError(
                f"{self.path}: {controls} of the first {len(sample)} characters "
                f"are control characters, so the file is binary data, not CSV",
                code="binary-content",
                hint=NOT_TEXT_HINT,
            )

    def _check_nul(self) -> None:
        """Raise InvalidFileError if the file contains U+0000; scan it once."""
        if self._nul_checked:
            return
        found = find_nul(self.path, self.encoding)
        if found is not None:
            offset, line = found
            raise InvalidFileError(
                f"{self.path}: NUL byte at byte offset {offset}; CSV text never "
                f"contains one, so the file is binary data or not {self.encoding}",
                code="nul-byte",
                hint=NOT_TEXT_HINT,
                location={"row": line},
            )
        self._nul_checked = True

    def _batches(self) -> Iterator[list[list[str]]]:
        """Yield the records after the header in lists, blank lines included."""
        self._check_nul()
        with self._reader() as reader:
            next(filter(None, reader), None)
            while batch := list(islice(reader, BATCH_ROWS)):
                yield batch

    def _finish(self) -> None:
        try:
            self._count()
        except InvalidFileError as exc:
            if exc.code != "encoding" or not self._encoding_sampled:
                raise
            # Only the start of the file was checked; it was UTF-8 and a
            # later part is not, so choose the encoding from the whole file.
            guess = detect_encoding(self.path)
            self._encoding_sampled = False
            if guess.encoding == self.encoding:
                raise
            self.encoding, self.encoding_reason = guess.encoding, guess.reason
            self._read_start()
            self._count()

    def _count(self) -> None:
        width = len(self.header)
        count = blank = ragged = 0
        ragged_rows: list[tuple[int, int]] = []
        for batch in self._batches():
            for record in filter(None, batch):
                count += 1
                if not any(record):
                    blank += 1
                if len(record) != width:
                    ragged += 1
                    if ragged <= MAX_ROW_WARNINGS:
                        ragged_rows.append((count, len(record)))
        self._row_count, self._blank_rows = count, blank
        for row, fields in ragged_rows:
            self._warn_ragged(row, fields, width)
        if ragged > MAX_ROW_WARNINGS:
            self.warn(
                "ragged-rows",
                f"{ragged} rows in all have a field count other than {width}; "
                f"only the first {MAX_ROW_WARNINGS} are listed",
            )
        if blank:
            self.warn(
                "empty-rows",
                f"{blank} rows have only empty fields",
                hint="Remove trailing rows of bare delimiters if they are not data.",
            )

    def _warn_ragged(self, row: int, fields: int, width: int) -> None:
        kind = "short" if fields < width else "long"
        noun = "field" if fields == 1 else "fields"
        self.warn(
            "ragged-row",
            f"row {row} has {fields} {noun} but the header has {width}",
            hint=f"The row is too {kind}; check for a missing or extra delimiter.",
            row=row,
        )

    @property
    def row_count(self) -> int:
        """The number of data records, header and blank lines excluded."""
        self.validate()
        return self._row_count

    @property
    def blank_rows(self) -> int:
        """The number of records whose fields are all empty."""
        self.validate()
        return self._blank_rows

    def rows(self) -> Iterator[list[str]]:
        """Yield the data rows (header excluded) as lists of text, lazily."""
        for batch in self._batches():
            yield from filter(None, batch)

    @property
    def na_values(self) -> frozenset[str]:
        """The markers read as None by :meth:`records` and :meth:`typed_rows`."""
        return self._na

    def records(self) -> Iterator[dict[str, str | None]]:
        """Yield the data rows as dicts keyed by the header, lazily.

        Fields beyond the header are dropped and missing ones are empty (or
        None when ``na_values`` holds the empty string). Fields equal to one
        of ``na_values`` are None.
        """
        header = self.header
        na = self._na
        missing: str | None = None if "" in na else ""
        for row in self.rows():
            padded: list[str | None] = (
                [None if v in na else v for v in row] if na else list(row)
            )
            padded += [missing] * (len(header) - len(row))
            yield dict(zip(header, padded, strict=False))

    def typed_rows(self, *, engine: str = "auto") -> Iterator[list[Any]]:
        """Return a lazy iterator of data rows with plain numbers converted.

        Empty fields become None. Each column's kind is chosen from the
        sampled start of the file: a column of plain integers yields ints,
        one of decimals floats, and one of text stays text, so a number in
        a column whose sampled values are all text is kept as written.
        Values that do not fit their column's kind, and columns that mix
        kinds, are converted one by one: numbers with leading zeros
        ("0123"), spaces, thousands separators or decimal commas stay text,
        and so does "NA" unless ``na_values`` lists it.

        ``engine="auto"`` parses UTF-8 and single-byte encoded files with
        pyarrow's CSV reader when it reads them as the csv module does, and
        falls back to the csv module at the first record pyarrow rejects (a
        ragged row, a byte invalid in the encoding); ``engine="python"``
        always uses the csv module. Both yield the same rows.
        """
        if engine not in ENGINES:
            raise ValueError(
                f"engine {engine!r} is invalid: expected one of {', '.join(ENGINES)}"
            )
        # Chaining the blocks keeps the step from one row to the next in C,
        # with no generator frame of this method resumed per row.
        return chain.from_iterable(self._typed_blocks(engine))

    def _typed_blocks(self, engine: str) -> Iterator[Iterator[list[Any]]]:
        """Yield iterators of typed rows, one per block that pyarrow parsed.

        ``chain.from_iterable`` requests the next block only once the caller
        consumed the current one, so the rows counted after a ``yield`` are
        the rows the caller received.
        """
        plan = self.column_plan()
        # The csv-module path checks in _batches, but pyarrow and a
        # whole-file sample bypass it.
        self._check_nul()
        yielded = 0
        if engine == "auto":
            reason = self._arrow_unsupported_reason()
            if reason is None:
                from sentinel.files._arrowcsv import ArrowFallback

                try:
                    for count, rows in self._arrow_typed_batches(plan):
                        yield rows
                        yielded += count
                    return
                except ArrowFallback as exc:
                    reason = f"pyarrow failed: {exc}"
            logger.debug(
                "%s: typing rows with the csv module from row %d: %s",
                self.path,
                yielded + 1,
                reason,
            )
        # The csv module reads the same records in the same order, so after a
        # fallback it resumes where pyarrow stopped by skipping the rows given.
        yield islice(self._python_typed_rows(plan), yielded, None)

    def _python_typed_rows(self, plan: ColumnPlan) -> Iterator[list[Any]]:
        rows = self._sample_rows
        if rows is not None:
            # The sample is the whole file, and column_plan parsed it already.
            for start in range(0, len(rows), BATCH_ROWS):
                yield from plan.convert(rows[start : start + BATCH_ROWS])
            return
        na = self._na
        for batch in self._batches():
            yield from plan.convert(_blank_na(batch, na) if na else batch)

    def _arrow_unsupported_reason(self) -> str | None:
        """Return why pyarrow cannot read this file like the csv module, or None."""
        reason = _arrow_format_reason(
            self.encoding, self.dialect, self.comment_lines, self._sample
        )
        if reason is not None:
            return reason
        if self._sample_complete:
            # Importing pyarrow took about 0.2 s and 78 MiB of resident memory
            # (measured with 26.0.1), more than the csv module needs here.
            return "the whole file fits in the sample"
        if importlib.util.find_spec("pyarrow") is None:
            return "pyarrow is not installed"
        return None

    def _arrow_typed_batches(
        self, plan: ColumnPlan
    ) -> Iterator[tuple[int, Iterator[list[Any]]]]:
        from sentinel.files._arrowcsv import arrow_typed_batches

        return arrow_typed_batches(
            self.path,
            encoding=self.encoding,
            dialect=self.dialect,
            kinds=plan.kinds,
            na_values=self._na,
        )

    def column_plan(self) -> ColumnPlan:
        """The per-column converters :meth:`typed_rows` uses, from the sample."""
        if self._plan is None:
            records = self._read_sample_records()
            if not self._sample_complete and len(records) > 1:
                records.pop()
            if self._na:
                records = _blank_na(records, self._na)
            self._plan = plan_columns(records[1:], len(self.header))
            # Blank records yield no typed rows, so the sample's non-empty
            # records are all that typed_rows needs from a whole-file sample.
            self._sample_rows = records[1:] if self._sample_complete else None
        return self._plan

    def _read_sample_records(self) -> list[list[str]]:
        """Return the sample's non-empty records, header included."""
        # Dialect detection read them, or their first part, already. The
        # reader is dropped before use because it can be read only once.
        detected, self._sample_records = self._sample_records, None
        # typed_rows uses a whole-file sample in place of the file, so
        # it is parsed again here to reject a quote left open at its end.
        if detected is not None and not self._sample_complete:
            return list(detected)
        with io.StringIO(self._sample, newline="") as stream:
            return [record for record in self._records(stream) if record]

    def _describe(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "encoding_reason": self.encoding_reason,
            "delimiter": self.dialect.delimiter,
            "dialect": self.dialect.reason,
            "line_ending": self.line_ending,
            "comment_lines": self.comment_lines,
            "header": list(self.header),
            "rows": self._row_count,
            "columns": len(self.header),
        }


class TsvFile(CsvFile):
    """A tab-separated values file; the delimiter is always a tab."""

    __slots__ = ()

    format = "tsv"
    extensions = (".tsv", ".tab")
    fixed_delimiter = "\t"


def _arrow_format_reason(
    encoding: str, dialect: Dialect, comment_lines: int, sample: str
) -> str | None:
    """Return the feature that pyarrow reads unlike the csv module, or None."""
    if encoding not in ARROW_ENCODINGS:
        return f"encoding {encoding} is neither UTF-8 nor a single-byte encoding"
    if comment_lines:
        return "the file starts with comment lines"
    if dialect.skipinitialspace:
        return "quoted fields start after a space"
    if dialect.escapechar is not None:
        return "quotes are escaped with backslashes"
    if sample[:1] in ("\r", "\n"):
        # pyarrow counts blank lines before the header as records to skip.
        return "blank lines precede the header"
    return None


def _na_set(na_values: bool | Iterable[str] | None) -> frozenset[str]:
    if na_values is None or na_values is False:
        return frozenset()
    if na_values is True:
        return frozenset(NA_VALUES)
    if isinstance(na_values, str):
        raise TypeError(
            f"na_values={na_values!r} is one string; pass a list such as "
            f"[{na_values!r}], or True for the usual markers"
        )
    return frozenset(na_values)


def _blank_na(batch: list[list[str]], na: frozenset[str]) -> list[list[str]]:
    """Replace the missing-value markers by empty fields, which read as None."""
    return [[("" if value in na else value) for value in row] for row in batch]


def _skip_comments(stream: Iterable[str]) -> tuple[int, Iterator[str]]:
    """Drop the ``#`` comment lines before the header; return their count."""
    lines = iter(stream)
    count = 0
    for line in lines:
        if not line.startswith("#"):
            return count, chain((line,), lines)
        count += 1
    return count, iter(())


def _mark_end(lines: Iterable[str], ended: list[bool]) -> Iterator[str]:
    """Yield ``lines``, then append True to ``ended``."""
    yield from lines
    ended.append(True)


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
