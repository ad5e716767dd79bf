"""A quoted field left open at the end of a CSV file is an error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sentinel.files import CsvFile, InvalidFileError, TsvFile
from sentinel.files._arrowcsv import BLOCK_BYTES

FALLBACK = "typing rows with the csv module"
# Rows of about 40 bytes: more than the 64 KiB sample and two pyarrow blocks.
MANY_ROWS = 2 * BLOCK_BYTES // 40
PADDING = "x" * 30


@pytest.mark.parametrize(
    ("content", "line", "field"),
    [
        (b'a,b\n"abc,1\n2,3\n', 2, 1),
        (b'a,b\n1,2\n3,"x', 3, 2),
        (b'a,b\n1,"x\n', 2, 2),
        (b'a,b\r\n1,"x\r\ny\r\nz\r\n', 2, 2),
        (b'a,b\r1,"x\ry', 2, 2),
        (b'# note\n# more\na,b\n1,"x\n2,3\n', 4, 2),
        (b'a,b\n1,"multi\nline"\n2,"open ""quoted"" text\n3,4\n', 4, 2),
        (b'"a,b\n1,2\n', 1, 1),
    ],
    ids=[
        "first-field",
        "no-final-newline",
        "last-line",
        "crlf",
        "bare-cr",
        "after-comments",
        "after-closed-multiline",
        "in-header",
    ],
)
def test_unterminated_quote_names_line(
    tmp_path: Path, content: bytes, line: int, field: int
) -> None:
    path = tmp_path / "open.csv"
    path.write_bytes(content)

    with pytest.raises(InvalidFileError) as raised:
        CsvFile.load(path).validate()

    error = raised.value
    assert error.code == "csv-unterminated-quote"
    assert error.location == {"row": line}
    assert f"field {field} of the record on line {line}" in error.message
    assert "never closed" in error.message
    assert '("")' in error.hint


@pytest.mark.parametrize(
    "content",
    [
        b'a,b\n1,"x\n"\n',
        b'a,b\n1,"x"',
        b'a,b\n1,""""',
        b'a,b\n1,""\n',
        b'a,b\n1,x"\n',
    ],
    ids=["closed-multiline", "closed-at-end", "only-quotes", "empty", "stray"],
)
def test_closed_quote_at_end_is_valid(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "closed.csv"
    path.write_bytes(content)
    loaded = CsvFile.load(path).validate()
    assert loaded.row_count == 1
    assert [issue.code for issue in loaded.issues] == []


def test_tsv_unterminated_quote_rejected(tmp_path: Path) -> None:
    path = tmp_path / "open.tsv"
    path.write_bytes(b'a\tb\n1\t"x\n2\t3\n')
    with pytest.raises(InvalidFileError, match="on line 2 is never closed"):
        TsvFile.load(path).validate()


@pytest.mark.parametrize("engine", ["auto", "python"])
def test_typed_rows_of_small_file_rejected(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "small.csv"
    path.write_bytes(b'a,b\n1,"x\n2,3\n')
    with pytest.raises(InvalidFileError) as raised:
        list(CsvFile.load(path).typed_rows(engine=engine))
    assert raised.value.code == "csv-unterminated-quote"
    assert raised.value.location == {"row": 2}


def write_large(path: Path, ending: str) -> Path:
    lines = ["a,b,c"] + [f"{n},{n}.5,{PADDING}" for n in range(MANY_ROWS)]
    path.write_text("\n".join(lines) + "\n" + ending, encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ["auto", "python"])
@pytest.mark.parametrize(
    "ending",
    ['1,2,"open\nmore,text\n', '1,2,"', '1,2,"NA', '1,2,"say ""hi""'],
    ids=["text", "empty", "na-marker", "doubled-quotes"],
)
def test_typed_rows_of_large_file_rejected(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, engine: str, ending: str
) -> None:
    path = write_large(tmp_path / "large.csv", ending)
    caplog.set_level(logging.DEBUG, logger="sentinel.files._csv")
    loaded = CsvFile.load(path, na_values=True)

    with pytest.raises(InvalidFileError) as raised:
        list(loaded.typed_rows(engine=engine))

    assert raised.value.code == "csv-unterminated-quote"
    assert raised.value.location == {"row": MANY_ROWS + 2}
    if engine == "auto":
        messages = [r.getMessage() for r in caplog.records]
        fallbacks = [m for m in messages if FALLBACK in m]
        assert len(fallbacks) == 1
        assert "may end inside a quoted field" in fallbacks[0]


@pytest.mark.parametrize(
    "ending",
    ['1,2,"closed\ntext"\n', '1,2,"closed"', "1,2,plain\n"],
    ids=["multiline", "no-final-newline", "unquoted"],
)
def test_large_file_closed_quote_stays_on_pyarrow(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, ending: str
) -> None:
    path = write_large(tmp_path / "large.csv", ending)
    caplog.set_level(logging.DEBUG, logger="sentinel.files._csv")
    loaded = CsvFile.load(path)

    rows = list(loaded.typed_rows())

    assert len(rows) == MANY_ROWS + 1
    assert rows == list(loaded.typed_rows(engine="python"))
    assert [r for r in caplog.records if FALLBACK in r.getMessage()] == []
    loaded.validate()
    assert loaded.row_count == MANY_ROWS + 1
