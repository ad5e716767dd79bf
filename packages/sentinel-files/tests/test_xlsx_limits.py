"""Cell-count bombs in workbooks are refused before python-calamine reads them."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from sentinel.files import (
    FilesError,
    InvalidFileError,
    UnsafeContentError,
    UnsupportedFormatError,
    WorkbookLimits,
    XlsxFile,
    load_file,
)

from .test_corpus import CORPUS
from .xlsx_bombs import corner_rows, narrow_rows, repeated_rows, write_workbook

# The peak resident memory a child process may reach while refusing a bomb:
# the interpreter with python-calamine loaded takes about a third of it.
MEMORY_BOUND = 150 * 1024 * 1024


def peak_memory_of_load(path: Path) -> dict[str, object]:
    """Load and read ``path`` in a child process; return its error and peak RSS.

    A child process, because python-calamine aborts the whole process when
    an unguarded grid does not fit in memory. The peak is VmHWM, which starts
    afresh at exec; ru_maxrss would carry over the pytest parent's peak.
    """
    script = textwrap.dedent(
        """
        import json, sys
        from sentinel.files import FilesError, load_file
        result = {}
        try:
            loaded = load_file(sys.argv[1])
            loaded.rows(0)
        except FilesError as exc:
            result = {"code": exc.code, "message": exc.message}
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(row for row in status if row.startswith("VmHWM:"))
        peak = int(line.split()[1]) * 1024
        print(json.dumps({**result, "peak": peak}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome: dict[str, object] = json.loads(done.stdout)
    return outcome


def test_two_values_far_apart_are_refused_within_a_memory_bound(
    tmp_path: Path,
) -> None:
    path = write_workbook(tmp_path / "corners.xlsx", corner_rows(), "A1:B2")
    outcome = peak_memory_of_load(path)
    assert outcome["code"] == "cell-bomb"
    assert "1,048,576 rows by 16,384 columns" in str(outcome["message"])
    assert int(str(outcome["peak"])) < MEMORY_BOUND


@pytest.mark.parametrize(
    "far_cell",
    [b"XFD1048576", b"A1048576", b"XF1048576"],
    ids=["three-letters", "one-letter", "two-letters"],
)
def test_cell_reference_beyond_its_row_is_refused(
    tmp_path: Path, far_cell: bytes
) -> None:
    # The row element says row 2, but calamine places the cell by its own
    # reference, so the grid reaches row 1,048,576.
    rows = [
        b'<row r="1"><c r="A1"><v>1</v></c></row>'
        b'<row r="2"><c r="' + far_cell + b'"><v>2</v></c></row>'
    ]
    limits = WorkbookLimits(max_cells=100_000)
    path = write_workbook(tmp_path / "lying.xlsx", rows, "A1")
    with pytest.raises(UnsafeContentError, match="1,048,576 rows"):
        load_file(path, limits=limits).validate()


def test_column_of_four_letters_is_refused(tmp_path: Path) -> None:
    # calamine reads any number of column letters: AAAA is column 18,279,
    # past Excel's last column XFD.
    rows = [b'<row r="1"><c r="A1"><v>1</v></c><c r="AAAA1"><v>2</v></c></row>']
    limits = WorkbookLimits(max_cells=10_000)
    path = write_workbook(tmp_path / "wide.xlsx", rows, "A1")
    with pytest.raises(UnsafeContentError, match="1 rows by 18,279 columns"):
        load_file(path, limits=limits).validate()


@pytest.mark.parametrize(
    "far_cell",
    [b'<c r="cv1000">', b"<c r='CV1000'>", b'<c r = "CV1000">', b'<c\n\tr="CV1000">'],
    ids=["lowercase", "single-quotes", "spaces-around-equals", "newline-and-tab"],
)
def test_reference_in_any_xml_form_is_measured(tmp_path: Path, far_cell: bytes) -> None:
    # calamine reads each of these as cell CV1000, so the grid is 1,000 rows
    # by 100 columns whichever way the attribute is written.
    rows = [
        b'<row r="1"><c r="A1"><v>1</v></c></row>'
        b'<row r="2">' + far_cell + b"<v>2</v></c></row>"
    ]
    limits = WorkbookLimits(max_cells=10_000)
    path = write_workbook(tmp_path / "forms.xlsx", rows, "A1")
    with pytest.raises(UnsafeContentError, match="1,000 rows by 100 columns"):
        load_file(path, limits=limits).validate()


def wide_last_row(count: int) -> list[bytes]:
    """``count`` rows of columns A to C, then a value in column ZZ (702)."""
    return [
        *narrow_rows(count - 1),
        b'<row r="%d"><c r="ZZ%d"><v>1</v></c></row>' % (count, count),
    ]


def test_wide_column_after_narrow_rows_is_refused(tmp_path: Path) -> None:
    # The first chunks bound their rows by digit count alone; the wide
    # column at the end must still be measured against every row.
    limits = WorkbookLimits(max_cells=1_000_000)
    path = write_workbook(tmp_path / "wide.xlsx", wide_last_row(2000), "A1")
    with pytest.raises(UnsafeContentError, match="2,000 rows by 702 columns"):
        load_file(path, limits=limits).validate()


def test_wide_column_within_the_limit_loads(tmp_path: Path) -> None:
    limits = WorkbookLimits(max_cells=1_000_000)
    path = write_workbook(tmp_path / "wide.xlsx", wide_last_row(1000), "A1")
    loaded = load_file(path, limits=limits)
    loaded.validate()
    assert loaded.sheets[0]["columns"] == 702


def test_repeated_rows_to_xfd_are_refused_within_a_memory_bound(
    tmp_path: Path,
) -> None:
    path = write_workbook(
        tmp_path / "rows.xlsx", repeated_rows(200_000), "A1:XFD1048576"
    )
    outcome = peak_memory_of_load(path)
    assert outcome["code"] == "cell-bomb"
    assert "200,000 rows by 16,384 columns" in str(outcome["message"])
    assert int(str(outcome["peak"])) < MEMORY_BOUND


def test_sheet_xml_of_hundreds_of_megabytes_is_refused_by_its_ratio(
    tmp_path: Path,
) -> None:
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 1000
    path = write_workbook(tmp_path / "ratio.xlsx", (row for _ in range(6000)), "A1")
    assert path.stat().st_size < 4 * 1024 * 1024
    outcome = peak_memory_of_load(path)
    assert outcome["code"] == "cell-bomb"
    assert "part xl/worksheets/sheet1.xml unpacks to 280.4 MiB" in str(
        outcome["message"]
    )
    assert "compression ratio" in str(outcome["message"])
    assert int(str(outcome["peak"])) < MEMORY_BOUND


def test_bomb_is_refused_by_validate_with_sheet_and_hint(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "corners.xlsx", corner_rows(), "A1")
    loaded = XlsxFile.load(path)
    with pytest.raises(UnsafeContentError) as caught:
        loaded.validate()
    assert caught.value.code == "cell-bomb"
    assert caught.value.location == {"sheet": "Bomb"}
    assert "max_cells" in caught.value.hint
    assert str(path) in caught.value.message


def test_honest_large_sheet_loads_under_the_default_limits(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "narrow.xlsx", narrow_rows(50_000), "A1:C50000")
    loaded = XlsxFile.load(path)
    rows = loaded.rows(0)
    assert len(rows) == 50_000
    assert rows[-1] == [50_000, 2, 3]
    assert loaded.sheets[0]["rows"] == 50_000


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (WorkbookLimits(max_cells=1000), "where the limit is 1,000"),
        (WorkbookLimits(max_part_bytes=1 << 20), "more than the limit of 1.0 MiB"),
        (WorkbookLimits(max_ratio=2, ratio_floor=0), "a compression ratio of"),
    ],
    ids=["cells", "part-bytes", "ratio"],
)
def test_limits_are_configurable(
    tmp_path: Path, limits: WorkbookLimits, words: str
) -> None:
    path = write_workbook(tmp_path / "narrow.xlsx", narrow_rows(50_000), "A1:C50000")
    with pytest.raises(UnsafeContentError, match=words):
        load_file(path, limits=limits).validate()


needs_corpus = pytest.mark.skipif(
    not (CORPUS / "other" / "issue_594_dos.ods").is_file(),
    reason=f"corpus not found at {CORPUS}",
)


@needs_corpus
@pytest.mark.parametrize(
    ("name", "rows", "columns"),
    [("issue_174.xlsx", 2, 11), ("bad_dimensions.xlsx", 4, 3)],
)
def test_corpus_wrong_huge_dimension_still_loads(
    name: str, rows: int, columns: int
) -> None:
    loaded = XlsxFile.load(CORPUS / "xlsx" / name)
    assert loaded.sheets[0]["rows"] == rows
    assert loaded.sheets[0]["columns"] == columns


@needs_corpus
def test_corpus_ods_cell_bomb_stays_rejected() -> None:
    path = CORPUS / "other" / "issue_594_dos.ods"
    with pytest.raises(UnsupportedFormatError):
        load_file(path)
    # Read directly, python-calamine's own cell limit surfaces as a cell bomb.
    with pytest.raises(FilesError) as caught:
        XlsxFile.load(path).rows(0)
    assert caught.value.code == "cell-bomb"
    assert "Cell limit exceeded" in caught.value.message


def corrupt_sheet_stream(path: Path) -> Path:
    """Overwrite the middle of the sheet's deflate stream with 0xFF bytes."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    with path.open("r+b") as stream:
        stream.seek(info.header_offset + 26)
        name_length, extra_length = struct.unpack("<HH", stream.read(4))
        start = info.header_offset + 30 + name_length + extra_length
        stream.seek(start + info.compress_size // 2)
        stream.write(b"\xff" * 64)
    return path


def test_corrupt_sheet_stream_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "narrow.xlsx", narrow_rows(5_000), "A1:C5000")
    corrupt_sheet_stream(path)
    loaded = XlsxFile.load(path)
    with pytest.raises(InvalidFileError) as caught:
        loaded.rows(0)
    assert caught.value.code == "corrupt"
    assert "invalid deflate data in xl/worksheets/sheet1.xml" in caught.value.message
    assert caught.value.location == {"sheet": "Bomb"}


def test_missing_shared_string_is_invalid(tmp_path: Path) -> None:
    cell = b'<row r="1"><c r="A1" t="s"><v>7</v></c></row>'
    path = write_workbook(tmp_path / "strings.xlsx", [cell], "A1")
    with pytest.raises(InvalidFileError) as caught:
        XlsxFile.load(path).validate()
    assert caught.value.code == "corrupt"
    assert "shared strings table" in caught.value.message
    assert caught.value.location == {"sheet": "Bomb"}
