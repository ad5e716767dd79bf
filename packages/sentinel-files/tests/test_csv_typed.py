"""Typed CSV rows from per-column converters, and checks left for validate()."""

from __future__ import annotations

from itertools import chain
from pathlib import Path

import pytest

from sentinel.files import CsvFile, XlsxFile
from sentinel.files._columns import convert_cell

# More records than the 64 KiB sample holds, with the padding below.
SAMPLE_ROWS = 3000
PADDING = "x" * 30


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_typed_rows_match_cell_by_cell_conversion(tmp_path: Path) -> None:
    lines = ["id,amount,code,name,qty"]
    lines += [
        f"{n},{n}.5,{n % 7:03d},name {n},{n if n % 5 else ''}" for n in range(500)
    ]
    path = write(tmp_path / "plain.csv", lines)
    loaded = CsvFile.load(path)
    expected = [[convert_cell(value) for value in row] for row in loaded.rows()]
    assert list(loaded.typed_rows()) == expected
    assert loaded.column_plan().kinds == (
        "integer",
        "decimal",
        "text",
        "text",
        "integer",
    )


def test_values_after_the_sample_that_do_not_fit_stay_text(tmp_path: Path) -> None:
    lines = ["zip,price,note"]
    lines += [f"{90000 + n},{n}.25,{PADDING}" for n in range(SAMPLE_ROWS)]
    lines += ["01234,1.5,", " 42,0042.5,", "4_2,nan,", "٤٢,1e5,", ",,", "-0,-.5,"]
    path = write(tmp_path / "late.csv", lines)
    rows = list(CsvFile.load(path).typed_rows())
    assert rows[0] == [90000, 0.25, PADDING]
    assert rows[-6:] == [
        ["01234", 1.5, None],
        [" 42", "0042.5", None],
        ["4_2", "nan", None],
        ["٤٢", "1e5", None],
        [None, None, None],
        [0, -0.5, None],
    ]


def test_a_value_that_does_not_fit_leaves_the_other_columns_typed(
    tmp_path: Path,
) -> None:
    lines = ["id,qty,price,note"]
    lines += [f"{n},{n % 9},{n}.5,{PADDING}" for n in range(SAMPLE_ROWS)]
    lines += ["1,12a,2.5,a", "2,3.5,1.5.1,", "3,,0.5,c", "4,0123,00.5,d"]
    rows = list(CsvFile.load(write(tmp_path / "one.csv", lines)).typed_rows())
    assert rows[-4:] == [
        [1, "12a", 2.5, "a"],
        [2, 3.5, "1.5.1", None],
        [3, None, 0.5, "c"],
        [4, "0123", "00.5", "d"],
    ]
    assert all(type(row[0]) is int and type(row[2]) is float for row in rows[:-4])


def test_numbers_in_a_text_column_stay_text(tmp_path: Path) -> None:
    lines = ["status,n"] + [f"open {PADDING},1", "NA,"] * SAMPLE_ROWS + ["12,2"]
    rows = list(CsvFile.load(write(tmp_path / "text.csv", lines)).typed_rows())
    assert rows[:2] == [[f"open {PADDING}", 1], ["NA", None]]
    assert rows[-1] == ["12", 2]


def test_a_sampled_mix_of_numbers_and_text_is_converted_cell_by_cell(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "mixed.csv", ["value", "open", "NA", "12", "0.5", "007"])
    rows = list(CsvFile.load(path).typed_rows())
    assert rows == [["open"], ["NA"], [12], [0.5], ["007"]]


def test_ragged_and_blank_rows_are_converted_cell_by_cell(tmp_path: Path) -> None:
    path = write(tmp_path / "ragged.csv", ["a,b", "1,2", "", "3", "4,5,6"])
    loaded = CsvFile.load(path)
    assert list(loaded.typed_rows()) == [[1, 2], [3], [4, 5, 6]]
    assert loaded.row_count == 3
    assert [issue.row for issue in loaded.warnings if issue.code == "ragged-row"] == [
        2,
        3,
    ]


@pytest.mark.parametrize("na_values", [False, True], ids=["na-off", "na-on"])
def test_small_file_typed_rows_equal_file_batches(
    tmp_path: Path, na_values: bool
) -> None:
    lines = ["id,price,code,note", "", "1,2.5,007,NA", ",,,", '2,x,12,"a,\nb"']
    lines += ["", "3,0.5", "4,1.5,1,a,extra", "NA,NA,NA,NA"] * 50
    path = write(tmp_path / "small.csv", lines)
    loaded = CsvFile.load(path, na_values=na_values)
    assert loaded._sample_complete
    plan = loaded.column_plan()
    assert loaded._sample_rows is not None
    batches = [
        [
            [("" if value in loaded.na_values else value) for value in record]
            for record in batch
        ]
        for batch in loaded._batches()
    ]
    expected = list(chain.from_iterable(map(plan.convert, batches)))
    assert list(loaded.typed_rows()) == expected
    assert list(loaded.typed_rows(engine="python")) == expected
    assert expected[:3] == [
        [1, 2.5, "007", None if na_values else "NA"],
        [None, None, None, None],
        [2, "x", 12, "a,\nb"],
    ]


def test_validate_chooses_a_single_byte_encoding_for_a_late_invalid_byte(
    tmp_path: Path,
) -> None:
    lines = ["name,value"] + [f"row {n},{n}" for n in range(120_000)]
    path = write(tmp_path / "late.csv", [*lines, "Année,1"], encoding="cp1252")
    loaded = CsvFile.load(path)
    assert loaded.encoding == "utf-8"
    assert loaded.validate().encoding in {"cp1252", "latin-1"}
    assert loaded.row_count == 120_001
    assert list(loaded.rows())[-1] == ["Année", "1"]


def test_workbook_reading_reuses_the_loaded_workbook(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["a", 1])
    book.create_sheet("Second").append([2])
    book.save(path)
    loaded = XlsxFile.load(path)
    assert loaded.sheet_names == ["Sheet", "Second"]
    assert loaded.rows(0) == [["a", 1]]
    assert loaded.rows("Second") == [[2]]
    assert [sheet["rows"] for sheet in loaded.sheets] == [1, 1]
    loaded.close()
    assert loaded.rows(1) == [[2]]


def test_ragged_row_warnings_use_the_right_plural(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4\n5,6\n", encoding="utf-8")
    loaded = CsvFile.load(path)
    loaded.validate()
    messages = [issue.message for issue in loaded.issues if issue.code == "ragged-row"]
    assert messages == [
        "row 2 has 1 field but the header has 3",
        "row 3 has 2 fields but the header has 3",
    ]
