"""Typed CSV rows through pyarrow match the csv module's, and fall back to it."""

from __future__ import annotations

import csv
import gc
import logging
import os
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sentinel.files import CsvFile, InvalidFileError, TsvFile, load_file
from sentinel.files._arrowcsv import BLOCK_BYTES

CORPUS = Path(
    os.environ.get(
        "SENTINEL_CORPUS",
        Path(__file__).resolve().parents[3].parent / "shared" / "corpus",
    )
)
MANIFEST = CORPUS / "MANIFEST.tsv"
FALLBACK = "typing rows with the csv module"
PADDING = "x" * 30
# Rows of about 40 bytes: more than the 64 KiB sample and two pyarrow blocks.
MANY_ROWS = 2 * BLOCK_BYTES // 40


def corpus_paths() -> list[str]:
    if not MANIFEST.is_file():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as stream:
        paths = [row["path"] for row in csv.DictReader(stream, delimiter="\t")]
    return [path for path in paths if path.endswith((".csv", ".tsv", ".tab"))]


CORPUS_PATHS = corpus_paths()


def write(path: Path, lines: list[str], ending: str = "\n", **options: Any) -> Path:
    encoding = options.get("encoding", "utf-8")
    path.write_bytes((ending.join(lines) + ending).encode(encoding))
    return path


def typed(rows: list[list[Any]]) -> list[str]:
    """Rows as reprs, so 1, 1.0, "1" and -0.0 against 0.0 all differ."""
    return [repr(row) for row in rows]


def read_typed(
    path: Path, engine: str, **options: Any
) -> tuple[list[str] | str, list[Any]]:
    """Read typed rows, then validate. Return the rows or the error, and issues."""
    loaded = load_file(path, **options)
    assert isinstance(loaded, CsvFile)
    try:
        rows: list[str] | str = typed(list(loaded.typed_rows(engine=engine)))
    except InvalidFileError as exc:
        rows = f"{exc.code}: {exc}"
    try:
        loaded.validate()
    except InvalidFileError as exc:
        return rows, [f"{exc.code}: {exc}"]
    return rows, list(loaded.issues)


def fell_back(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if FALLBACK in r.getMessage()]


def numbers_late(path: Path) -> Path:
    """Columns typed from the sample, with values that do not fit after it."""
    lines = ["id,price,code,note,qty"]
    lines += [
        f"{n},{n}.25,{n % 97:03d},{PADDING},{n % 5 or ''}" for n in range(MANY_ROWS)
    ]
    lines += [
        "0123,1.5,12,a,",
        " 42,0042.5,x,b,3.5",
        "NA,NA,NA,NA,NA",
        "123456789012345678901234567890,1e5,7,c,-0",
        "9223372036854775808,5,8,d,+5",
        "-9223372036854775808,5.,9,e,٤٢",
        "4_2,-.5,,f,",
        ",+1.5,,,",
    ]
    return write(path, lines)


def exponents(path: Path) -> Path:
    lines = ["x,y"]
    lines += [f"{n}.5e{n % 30},{n}.0E-{n % 300}" for n in range(MANY_ROWS)]
    lines += ["1.0e400,1.0e-400", "-1.0e400,2.2250738585072014e-308"]
    return write(path, lines)


def precise_decimals(path: Path) -> Path:
    generator = random.Random(7)
    lines = ["a,b,c"]
    for _ in range(MANY_ROWS):
        a = repr(generator.uniform(-1e6, 1e6))
        b = f"{generator.random():.25f}"
        c = f"{generator.random() * 10 ** generator.randint(-300, 300):.17e}"
        lines.append(f"{a},{b},{c}")
    return write(path, lines)


def huge_integers(path: Path) -> Path:
    lines = ["n,m"] + [f"{n},{10**20 + n}" for n in range(MANY_ROWS)]
    return write(path, lines)


def empty_cells(path: Path) -> Path:
    lines = ["a,b,c,d"]
    lines += [f'{n},"",,{n if n % 3 else ""}' for n in range(MANY_ROWS)]
    lines += [",,,", '"","","",""']
    return write(path, lines)


def quoted_newlines(path: Path) -> Path:
    lines = ['id,"note\nwith break",n']
    lines += [f'{n},"line {n}\nnext, ""quoted""",{n}' for n in range(MANY_ROWS)]
    lines += ['1,"12\n",2', '2,"",3']
    return write(path, lines)


def crlf(path: Path) -> Path:
    lines = ["a,b"] + [f'{n},"x\r\ny"' for n in range(MANY_ROWS)]
    return write(path, lines, ending="\r\n")


def mixed_line_endings(path: Path) -> Path:
    body = "a,b\r\n" + "".join(
        f"{n},{n}.5" + ("\r\n", "\n", "\r")[n % 3] for n in range(MANY_ROWS)
    )
    path.write_bytes(body.encode())
    return path


def byte_order_mark(path: Path) -> Path:
    lines = ['"id","name"'] + [f"{n},中国人 {n}" for n in range(MANY_ROWS)]
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode())
    return path


def semicolons(path: Path) -> Path:
    lines = ["a;b;c"] + [f"{n};{n},5;{n}.5" for n in range(MANY_ROWS)]
    return write(path, lines)


def windows_1252(path: Path) -> Path:
    lines = ["name;amount"] + [f"Nabrežina Š {n};{n}" for n in range(MANY_ROWS)]
    return write(path, lines, encoding="cp1252")


def latin_1(path: Path) -> Path:
    lines = ["name,amount"] + [f"Année {n},{n}.5" for n in range(MANY_ROWS)]
    return write(path, lines, encoding="latin-1")


def greek(path: Path) -> Path:
    lines = ["name,amount"] + [f"Αθήνα {n},{n:03d}" for n in range(MANY_ROWS)]
    return write(path, lines, encoding="iso-8859-7")


def blank_lines(path: Path) -> Path:
    lines = ["a,b"] + [f"{n},{n}" if n % 100 else "" for n in range(MANY_ROWS)]
    return write(path, lines)


def one_column(path: Path) -> Path:
    lines = ["a"] + [str(n) if n % 7 else '""' for n in range(MANY_ROWS * 4)]
    return write(path, lines)


def tab_separated(path: Path) -> Path:
    lines = ["id\tname"] + [f"{n}\t\\N" for n in range(MANY_ROWS)]
    return write(path.with_suffix(".tsv"), lines)


def empty_column(path: Path) -> Path:
    lines = ["a,b,c"] + [f"{n},," for n in range(MANY_ROWS)] + ["1,2,x"]
    return write(path, lines)


# Each builder writes one file; True when pyarrow is expected to read it all.
EDGE_CASES: dict[str, tuple[Callable[[Path], Path], bool]] = {
    "numbers-late": (numbers_late, True),
    "exponents": (exponents, True),
    "precise-decimals": (precise_decimals, True),
    "huge-integers": (huge_integers, True),
    "empty-cells": (empty_cells, True),
    "quoted-newlines": (quoted_newlines, True),
    "crlf": (crlf, True),
    "mixed-line-endings": (mixed_line_endings, True),
    "bom": (byte_order_mark, True),
    "semicolons": (semicolons, True),
    "blank-lines": (blank_lines, True),
    "one-column": (one_column, True),
    "tab-separated": (tab_separated, True),
    "empty-column": (empty_column, True),
    "windows-1252": (windows_1252, True),
    "latin-1": (latin_1, True),
    "iso-8859-7": (greek, True),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
@pytest.mark.parametrize("na_values", [False, True], ids=["na-off", "na-on"])
def test_arrow_rows_equal_python_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, na_values: bool
) -> None:
    build, arrow_expected = EDGE_CASES[name]
    path = build(tmp_path / f"{name}.csv")
    caplog.set_level(logging.DEBUG, logger="sentinel.files._csv")
    fast = read_typed(path, "auto", na_values=na_values)
    assert bool(fell_back(caplog)) is not arrow_expected
    caplog.clear()
    slow = read_typed(path, "python", na_values=na_values)
    assert fell_back(caplog) == []
    assert fast[0] == slow[0]
    assert fast[1] == slow[1]


@pytest.mark.skipif(not CORPUS_PATHS, reason=f"corpus manifest not found at {MANIFEST}")
@pytest.mark.parametrize("relative", CORPUS_PATHS)
def test_arrow_rows_equal_python_rows_on_corpus(relative: str) -> None:
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(f"corpus file {path} not found")
    assert read_typed(path, "auto") == read_typed(path, "python")


def test_arrow_types_plain_columns(tmp_path: Path) -> None:
    rows = list(CsvFile.load(numbers_late(tmp_path / "late.csv")).typed_rows())
    assert rows[0] == [0, 0.25, "000", PADDING, None]
    assert rows[-8:] == [
        ["0123", 1.5, "12", "a", None],
        [" 42", "0042.5", "x", "b", 3.5],
        ["NA", "NA", "NA", "NA", "NA"],
        [123456789012345678901234567890, "1e5", "7", "c", 0],
        [9223372036854775808, 5, "8", "d", 5],
        [-9223372036854775808, "5.", "9", "e", "٤٢"],
        ["4_2", -0.5, None, "f", None],
        [None, 1.5, None, None, None],
    ]


def test_arrow_reads_na_markers_as_none(tmp_path: Path) -> None:
    path = numbers_late(tmp_path / "late.csv")
    rows = list(CsvFile.load(path, na_values=True).typed_rows())
    assert rows[-6] == [None, None, None, None, None]


def test_arrow_falls_back_at_a_late_ragged_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = ["a,b,c"] + [f"{n},{n}.5,{PADDING}" for n in range(MANY_ROWS)]
    lines[MANY_ROWS - 10] = "1,2"
    lines[MANY_ROWS - 5] = "1,2,3,4"
    path = write(tmp_path / "ragged.csv", lines)
    caplog.set_level(logging.DEBUG, logger="sentinel.files._csv")
    loaded = CsvFile.load(path)
    rows = list(loaded.typed_rows())
    messages = fell_back(caplog)
    assert len(messages) == 1
    assert "pyarrow failed" in messages[0]
    # pyarrow gave the rows of the blocks before the ragged one.
    assert "from row 1:" not in messages[0]
    assert rows == list(loaded.typed_rows(engine="python"))
    assert rows[MANY_ROWS - 11] == [1, 2]
    assert rows[MANY_ROWS - 6] == [1, 2, "3", 4]
    loaded.validate()
    ragged = [issue.row for issue in loaded.issues if issue.code == "ragged-row"]
    assert ragged == [MANY_ROWS - 10, MANY_ROWS - 5]


def test_arrow_falls_back_at_a_first_ragged_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = ["a,b,c", "1,2"] + [f"{n},{n},{PADDING}" for n in range(MANY_ROWS)]
    path = write(tmp_path / "short.csv", lines)
    caplog.set_level(logging.DEBUG, logger="sentinel.files._csv")
    rows = list(CsvFile.load(path).typed_rows())
    assert rows[:2] == [[1, 2], [0, 0, PADDING]]
    assert len(rows) == MANY_ROWS + 1
    assert len(fell_back(caplog)) == 1
    assert "from row 1: pyarrow failed" in fell_back(caplog)[0]


def test_small_file_skips_pyarrow(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "small.csv", ["a,b", "1,2.5"])
    caplog.set_level(logging.DEBUG, logger="sentinel.files._csv")
    assert list(CsvFile.load(path).typed_rows()) == [[1, 2.5]]
    assert "fits in the sample" in fell_back(caplog)[0]


# Files whose first MiB, from which the encoding is chosen, is valid, with
# a byte after it that the encoding leaves undefined.
LATE_INVALID = {
    "utf-8": (
        ["a,b"] + [f"{n},{PADDING}" for n in range(60_000)],
        b"1,Nabre\x9eina\n",
    ),
    "cp1252": (
        ["a;b"] + [f"{n};Nabrežina Š {PADDING}" for n in range(30_000)],
        b"1;x\x81y\n",
    ),
}


@pytest.mark.parametrize("encoding", sorted(LATE_INVALID))
def test_arrow_falls_back_at_late_invalid_byte(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, encoding: str
) -> None:
    lines, invalid = LATE_INVALID[encoding]
    path = tmp_path / f"late-{encoding}.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding) + invalid)
    caplog.set_level(logging.DEBUG, logger="sentinel.files._csv")
    loaded = CsvFile.load(path)
    assert loaded.encoding == encoding
    with pytest.raises(InvalidFileError) as fast:
        list(loaded.typed_rows())
    assert fast.value.code == "encoding"
    assert "pyarrow failed" in fell_back(caplog)[0]
    with pytest.raises(InvalidFileError) as slow:
        list(loaded.typed_rows(engine="python"))
    assert str(fast.value) == str(slow.value)


def test_arrow_reads_single_byte_text(tmp_path: Path) -> None:
    path = windows_1252(tmp_path / "cp1252.csv")
    loaded = CsvFile.load(path)
    assert loaded.encoding == "cp1252"
    rows = list(loaded.typed_rows())
    assert rows[0] == ["Nabrežina Š 0", 0]
    assert rows[-1] == [f"Nabrežina Š {MANY_ROWS - 1}", MANY_ROWS - 1]


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (["# exported", "a,b", "1,2"], "comment lines"),
        (["a,b", '1, "x"', '2, "y"'], "after a space"),
        (["a,b", '1,"x\\"y"'], "backslashes"),
        (["", "a,b", "1,2"], "blank lines"),
    ],
    ids=["comment", "space-before-quote", "backslash-escape", "leading-blank"],
)
def test_arrow_unsupported_dialects_use_csv_module(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, lines: list[str], reason: str
) -> None:
    path = write(tmp_path / "dialect.csv", lines)
    caplog.set_level(logging.DEBUG, logger="sentinel.files._csv")
    loaded = CsvFile.load(path)
    assert list(loaded.typed_rows()) == list(loaded.typed_rows(engine="python"))
    assert reason in fell_back(caplog)[0]


def test_arrow_falls_back_on_record_spanning_blocks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    long = "y" * BLOCK_BYTES + "\n" + "z" * BLOCK_BYTES
    path = write(tmp_path / "long.csv", ["a,b", "1,x", f'2,"{long}"', "3,w"])
    caplog.set_level(logging.DEBUG, logger="sentinel.files._csv")
    rows = list(CsvFile.load(path).typed_rows())
    assert rows == [[1, "x"], [2, long], [3, "w"]]
    assert "straddles" in fell_back(caplog)[0]


def test_typed_rows_rejects_unknown_engine(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", ["a", "1"])
    with pytest.raises(ValueError, match="engine 'arrow' is invalid"):
        list(CsvFile.load(path).typed_rows(engine="arrow"))


def test_tsv_arrow_rows_keep_backslash_n(tmp_path: Path) -> None:
    path = tab_separated(tmp_path / "t.tsv")
    assert next(TsvFile.load(path).typed_rows()) == [0, "\\N"]


@pytest.mark.parametrize("engine", ["auto", "python"])
def test_decimal_column_keeps_cell_rules(tmp_path: Path, engine: str) -> None:
    # float() reads "5", "1e5" and "5." too; convert_cell does not, so a
    # batch of plain decimals with one of them must not go through float().
    lines = ["price"] + [f"{n}.5" for n in range(MANY_ROWS)] + ["5", "1e5", "5."]
    rows = list(
        CsvFile.load(write(tmp_path / "d.csv", lines)).typed_rows(engine=engine)
    )
    assert rows[-3:] == [[5], ["1e5"], ["5."]]
    assert type(rows[-3][0]) is int


def test_arrow_rows_abandoned_early_stop_the_reading_thread(tmp_path: Path) -> None:
    lines = ["a,b,c"] + [f"{n},{n}.5,{PADDING}" for n in range(MANY_ROWS)]
    path = write(tmp_path / "many.csv", lines)
    before = {thread.name for thread in threading.enumerate()}
    rows = CsvFile.load(path).typed_rows()
    assert next(rows) == [0, 0.5, PADDING]
    readers = {thread.name for thread in threading.enumerate()} - before
    assert any(name.startswith("csv-read") for name in readers)
    # Dropping the iterator closes the generator, which shuts the pool down.
    del rows
    gc.collect()
    after = {thread.name for thread in threading.enumerate()}
    assert not any(name.startswith("csv-read") for name in after - before)
