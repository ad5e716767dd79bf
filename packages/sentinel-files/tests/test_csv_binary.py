"""Tests that CSV and TSV reading rejects NUL bytes and binary data."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sentinel.files import CsvFile, InvalidFileError, TsvFile
from sentinel.files._csv import SAMPLE_CHARS


def random_bytes(size: int, *, nul: bool) -> bytes:
    generator = random.Random(20240501)
    low = 0 if nul else 1
    return bytes(generator.randint(low, 255) for _ in range(size))


def long_csv(rows: int) -> bytes:
    # Numbers and text, so pyarrow and the csv module both have columns
    # to convert; the file is larger than the sample.
    lines = ["id,name,amount"] + [f"{n},name {n},{n}.5" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def load_error(path: Path, cls: type[CsvFile] = CsvFile) -> InvalidFileError:
    with pytest.raises(InvalidFileError) as caught:
        cls.load(path).validate()
    return caught.value


def test_csv_of_nul_bytes_rejected(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"\x00" * 1000)
    error = load_error(path)
    assert error.code == "nul-byte"
    assert "byte offset 0" in error.message
    assert error.location == {"row": 1}
    assert "not a text file" in error.hint


def test_csv_of_random_bytes_rejected(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    data = random_bytes(5000, nul=True)
    path.write_bytes(data)
    error = load_error(path)
    assert error.code == "nul-byte"
    assert f"byte offset {data.index(0)}" in error.message
    assert error.location == {"row": data[: data.index(0)].count(b"\n") + 1}


def test_csv_binary_without_nul_rejected(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(random_bytes(5000, nul=False))
    error = load_error(path)
    assert error.code == "binary-content"
    assert "control characters" in error.message
    assert "not a text file" in error.hint


def test_tsv_with_nul_rejected(tmp_path: Path) -> None:
    path = tmp_path / "table.tsv"
    path.write_bytes(b"id\tname\n1\ta\x00b\n")
    error = load_error(path, TsvFile)
    assert error.code == "nul-byte"
    assert "byte offset 11" in error.message
    assert error.location == {"row": 2}


def test_csv_utf16_nul_offset_in_bytes(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes("id,name\n1,a\x00b\n".encode("utf-16"))
    error = load_error(path)
    assert error.code == "nul-byte"
    # A 2-byte mark, then 11 characters of 2 bytes each before the NUL.
    assert "byte offset 24" in error.message
    assert error.location == {"row": 2}


def test_csv_nul_after_sample_found_by_validate(tmp_path: Path) -> None:
    data = long_csv(20_000)
    assert len(data) > 4 * SAMPLE_CHARS
    path = tmp_path / "late.csv"
    path.write_bytes(data + b"1,\x00,2\n")
    loaded = CsvFile.load(path)
    with pytest.raises(InvalidFileError) as caught:
        loaded.validate()
    assert caught.value.code == "nul-byte"
    assert f"byte offset {len(data) + 2}" in caught.value.message
    assert caught.value.location == {"row": 20_002}


@pytest.mark.parametrize("engine", ["auto", "python"])
def test_csv_nul_rejected_by_typed_rows(tmp_path: Path, engine: str) -> None:
    data = long_csv(20_000)
    path = tmp_path / "late.csv"
    path.write_bytes(data + b"1,\x00,2\n")
    loaded = CsvFile.load(path)
    with pytest.raises(InvalidFileError) as caught:
        next(loaded.typed_rows(engine=engine))
    assert caught.value.code == "nul-byte"
    assert caught.value.location == {"row": 20_002}


@pytest.mark.parametrize("engine", ["auto", "python"])
def test_csv_nul_in_small_file_typed_rows(tmp_path: Path, engine: str) -> None:
    # A file that fits in the sample is typed from it, without _batches.
    path = tmp_path / "small.csv"
    path.write_bytes(b"id,name\n1,a\n")
    loaded = CsvFile.load(path)
    path.write_bytes(b"id,name\n1,\x00\n")
    with pytest.raises(InvalidFileError) as caught:
        list(loaded.typed_rows(engine=engine))
    assert caught.value.code == "nul-byte"


@pytest.mark.parametrize(
    ("content", "rows"),
    [
        (b"id,note\n1,line\x0bbreak\n2,page\x0cbreak\n", 2),
        # The end-of-file mark of old DOS tools reads as one more record.
        (b"id,note\r\n1,a\r\n2,b\r\n\x1a", 3),
        (b"id,name\n1,\x1b[1mbold\x1b[0m\n", 1),
    ],
    ids=["vertical-tab-and-form-feed", "dos-end-of-file", "escape-codes"],
)
def test_csv_few_control_characters_accepted(
    tmp_path: Path, content: bytes, rows: int
) -> None:
    path = tmp_path / "text.csv"
    path.write_bytes(content)
    loaded = CsvFile.load(path).validate()
    assert loaded.row_count == rows
