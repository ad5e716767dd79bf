"""Typed CSV rows read with pyarrow's streaming CSV reader, typed column-wise.

pyarrow parses the records in C++ and returns each column of a batch as
strings. Each column is then typed with the rules of ``_columns``: an RE2
match checks a whole column, and a cast to int64 or float64 converts it.
A column that does not pass is converted cell by cell with ``convert_cell``.
Anything pyarrow rejects (a ragged row, a byte invalid in the file's
encoding, a quoted record that spans two blocks) raises
:class:`ArrowFallback`, and the caller reads the rest with the csv module.
So does a file that may end inside a quoted field, which pyarrow accepts
as the last field when the record has the header's field count.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]

from sentinel.files._columns import (
    DECIMAL_COLUMN,
    DECIMAL_SYNTAX,
    INTEGER_COLUMN,
    INTEGER_SYNTAX,
    TEXT,
    convert_cells,
)
from sentinel.files._dialect import Dialect

# The patterns of _columns.INTEGER and _columns.DECIMAL, anchored for RE2.
# RE2's "$" matches only at the end of the text, like Python's fullmatch.
INTEGER_PATTERN = f"^{INTEGER_SYNTAX}$"
DECIMAL_PATTERN = f"^{DECIMAL_SYNTAX}$"
# Bytes pyarrow parses per batch. A block's rows become Python objects at
# once, so the block size bounds memory. A record with a line break that
# spans two blocks makes pyarrow fail, and the csv module reads the rest.
# 1 MiB blocks read the benchmark's generated 200,000 x 10 file about 7%
# faster than 256 KiB ones (fewer Python calls per row; pyarrow 26.0.1).
BLOCK_BYTES = 1024 * 1024
# pyarrow's name for the UTF-8 it parses without decoding.
UTF8 = "utf8"
UTF8_ENCODINGS = frozenset({"utf-8", "utf-8-sig"})


class ArrowFallback(Exception):
    """pyarrow could not read the file the way the csv module does."""


def arrow_typed_batches(
    path: Path,
    *,
    encoding: str,
    dialect: Dialect,
    kinds: Sequence[str],
    na_values: frozenset[str],
) -> Iterator[tuple[int, Iterator[list[Any]]]]:
    """Yield the typed data rows after the header block by block, with counts.

    Raises :class:`ArrowFallback` when pyarrow rejects the file or a byte
    is invalid in ``encoding``. The rows of the batches yielded before it
    are correct.
    """
    names = [f"column{index}" for index in range(len(kinds))]
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names,
                skip_rows_after_names=1,
                block_size=BLOCK_BYTES,
                # pyarrow 26.0.1 skips a UTF-8 byte-order mark, and decodes
                # other encodings with Python's codecs.
                encoding=UTF8 if encoding in UTF8_ENCODINGS else encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=dialect.delimiter,
                quote_char=dialect.quotechar,
                double_quote=True,
                newlines_in_values=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=sorted(na_values | {""}),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
            # pyarrow's default pool (mimalloc in 26.0.1) peaked about 15 MiB
            # higher on the 200,000-row benchmark file than the system one.
            memory_pool=pa.system_memory_pool(),
        )
        # A second thread parses the next block and checks and casts its
        # number columns, work that pyarrow does without the GIL, while this
        # thread turns the current block into Python objects.
        last_field: list[str | None] = []
        with reader, ThreadPoolExecutor(1, thread_name_prefix="csv-read") as pool:
            blocks = iter(reader)
            pending = pool.submit(_next_block, blocks, kinds)
            while (block := pending.result()) is not None:
                pending = pool.submit(_next_block, blocks, kinds)
                rows, prepared = block
                if rows:
                    last_field[:] = [prepared[-1].last_text]
                columns = []
                for column in prepared:
                    columns.append(column.to_python())
                    if not pending.done():
                        # Hand the GIL over now: a thread that waits for it
                        # otherwise waits out the switch interval (5 ms)
                        # while this one converts, which starved the parsing
                        # thread. Each call costs a system call, so it is
                        # made only while that thread is still working.
                        time.sleep(0)
                # A lazy iterator frees each row once consumed. A list of a
                # block's rows would keep thousands of lists alive for the
                # garbage collector to walk again and again.
                yield rows, map(list, zip(*columns, strict=True))
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        raise ArrowFallback(str(exc)) from exc
    if last_field and _may_end_in_open_quote(
        path, last_field[0], encoding, dialect.quotechar, na_values
    ):
        raise ArrowFallback("the file may end inside a quoted field")


def _may_end_in_open_quote(
    path: Path,
    last_field: str | None,
    encoding: str,
    quotechar: str,
    na_values: frozenset[str],
) -> bool:
    """Tell whether the file ends with a quote and then the last field's text.

    A quoted field left open contains the rest of the file, so the file then
    ends with the opening quote and the field with its quotes doubled. A
    closed quoted field of nothing but quotes matches too, and costs only
    a reread with the csv module. A None field was empty or a marker of
    ``na_values``, so each of those is tried.
    """
    candidates = [last_field] if last_field is not None else ["", *na_values]
    # Encoding with "utf-8-sig" would put a byte-order mark in front.
    codec = "utf-8" if encoding in UTF8_ENCODINGS else encoding
    with path.open("rb") as stream:
        size = stream.seek(0, os.SEEK_END)
        for text in candidates:
            quoted = quotechar + text.replace(quotechar, quotechar * 2)
            tail = quoted.encode(codec)
            if len(tail) > size:
                continue
            stream.seek(size - len(tail))
            if stream.read() == tail:
                return True
    return False


class _Column(NamedTuple):
    """A column of a block, cast to numbers where all its cells allow it."""

    array: pa.Array
    # Whether convert_cells types the cells one by one.
    by_cell: bool
    # The cells as text, before any cast to numbers.
    text: pa.Array

    @property
    def last_text(self) -> str | None:
        """The text of the column's last cell as pyarrow parsed it, or None."""
        return self.text[-1].as_py() if len(self.text) else None

    def to_python(self) -> list[Any]:
        """Return the column's cells as Python values."""
        values = self.array.to_pylist()
        return convert_cells(values) if self.by_cell else values


def _next_block(
    blocks: Iterator[pa.RecordBatch], kinds: Sequence[str]
) -> tuple[int, list[_Column]] | None:
    """Parse the next block and cast its number columns; None at the end."""
    batch = next(blocks, None)
    if batch is None:
        return None
    columns = [_cast(batch.column(index), kind) for index, kind in enumerate(kinds)]
    return batch.num_rows, columns


def _cast(column: pa.Array, kind: str) -> _Column:
    """Cast a number column whose cells all match its kind's syntax."""
    if kind == TEXT:
        return _Column(column, by_cell=False, text=column)
    if kind == INTEGER_COLUMN:
        pattern, target = INTEGER_PATTERN, pa.int64()
    elif kind == DECIMAL_COLUMN:
        pattern, target = DECIMAL_PATTERN, pa.float64()
    else:
        return _Column(column, by_cell=True, text=column)
    if column.null_count == len(column):
        return _Column(column, by_cell=False, text=column)
    if pc.all(pc.match_substring_regex(column, pattern)).as_py():
        try:
            return _Column(pc.cast(column, target), by_cell=False, text=column)
        except pa.ArrowInvalid:
            pass  # an integer outside int64 becomes a Python int cell by cell
    return _Column(column, by_cell=True, text=column)
