"""Conversion between CSV and XLSX keeps values and types, and streams."""

from __future__ import annotations

import datetime
import shutil
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sentinel.files import (
    CsvFile,
    FilesError,
    XlsxFile,
    convert,
    csv_to_xlsx,
    xlsx_to_csv,
)
from sentinel.files._cli import files
from sentinel.files._convert import typed_value
from sentinel.files._errors import SheetNotFoundError

from .test_corpus import CORPUS

ROWS = 100_000

TABLE = (
    "id,code,price,paid,day,at,note,empty\n"
    "1,0123,2.5,TRUE,2021-01-02,2021-01-02 10:20:30,hello,\n"
    '-7,00,0.1,FALSE,1999-12-31,2021-01-02 10:20:30.250000,"a, b",\n'
    "12345678901,x,274.65999999999997,true,2021-02-30,,NA,\n"
)


def csv_values(path: Path) -> list[list[Any]]:
    """The CSV file's rows typed as conversion types them."""
    return [[typed_value(v) for v in row] for row in CsvFile.load(path).typed_rows()]


def typed(rows: list[list[Any]]) -> list[list[tuple[type, Any]]]:
    """Pair each value with its type, so 1 and 1.0 or "1" compare unequal."""
    return [[(type(value), value) for value in row] for row in rows]


def without_trailing_empty_rows(rows: list[list[Any]]) -> list[list[Any]]:
    """Drop the empty rows at the end of a used range.

    A workbook may count formatted empty rows in its used range; a written
    workbook has no cells for them, so they do not come back.
    """
    while rows and not any(value != "" for value in rows[-1]):
        rows.pop()
    return rows


def test_csv_to_xlsx_writes_each_type(tmp_path: Path) -> None:
    source = tmp_path / "table.csv"
    source.write_text(TABLE)
    assert csv_to_xlsx(source, tmp_path / "table.xlsx") == 3
    loaded = XlsxFile.load(tmp_path / "table.xlsx")
    assert loaded.sheet_names == ["table"]
    header, first, second, third = loaded.rows(0)
    assert header == ["id", "code", "price", "paid", "day", "at", "note", "empty"]
    assert first == [
        1,
        "0123",
        2.5,
        True,
        datetime.date(2021, 1, 2),
        datetime.datetime(2021, 1, 2, 10, 20, 30),
        "hello",
        "",
    ]
    assert second[5] == datetime.datetime(2021, 1, 2, 10, 20, 30, 250000)
    assert third[2] == 274.65999999999997  # 17 digits, kept exactly
    assert third[4] == "2021-02-30"  # not a date, so text


def test_csv_xlsx_csv_round_trip_keeps_values_and_types(tmp_path: Path) -> None:
    source = tmp_path / "table.csv"
    source.write_text(TABLE)
    convert(source, tmp_path / "table.xlsx")
    convert(tmp_path / "table.xlsx", tmp_path / "back.csv")
    assert typed(csv_values(tmp_path / "back.csv")) == typed(csv_values(source))
    back = (tmp_path / "back.csv").read_text(encoding="utf-8").splitlines()
    assert back[1] == "1,0123,2.5,TRUE,2021-01-02,2021-01-02 10:20:30,hello,"


CORPUS_WORKBOOKS = [
    "xlsx/date.xlsx",
    "xlsx/date_1904.xlsx",
    "xlsx/adjust-floating-point-error.xlsx",
    "xlsx/formula_results01.xlsx",
    "xlsx/shuttles.xlsx",
]


@pytest.mark.skipif(
    not (CORPUS / "xlsx").is_dir(), reason=f"corpus not found at {CORPUS}"
)
@pytest.mark.parametrize("relative", CORPUS_WORKBOOKS)
def test_xlsx_csv_xlsx_round_trip_keeps_values_and_types(
    tmp_path: Path, relative: str
) -> None:
    source = tmp_path / Path(relative).name
    shutil.copyfile(CORPUS / relative, source)
    xlsx_to_csv(source, tmp_path / "sheet.csv")
    csv_to_xlsx(tmp_path / "sheet.csv", tmp_path / "again.xlsx")
    original = without_trailing_empty_rows(XlsxFile.load(source).rows(0))
    again = XlsxFile.load(tmp_path / "again.xlsx").rows(0)
    assert typed(again) == typed(original)


def test_csv_to_xlsx_with_na_values_writes_empty_cells(tmp_path: Path) -> None:
    source = tmp_path / "na.csv"
    source.write_text("id,score\n1,NA\n2,\\N\n3,4\n")
    csv_to_xlsx(source, tmp_path / "na.xlsx", na_values=True)
    assert XlsxFile.load(tmp_path / "na.xlsx").rows(0)[1:] == [
        [1, ""],
        [2, ""],
        [3, 4],
    ]
    csv_to_xlsx(source, tmp_path / "kept.xlsx")
    assert XlsxFile.load(tmp_path / "kept.xlsx").rows(0)[1][1] == "NA"


def test_conversion_streams_a_large_file_in_bounded_memory(tmp_path: Path) -> None:
    # Long labels from a small set make a file of several megabytes from
    # few cells, which keeps the traced run short; openpyxl keeps the set of
    # distinct strings in memory, as the shared-strings part needs it.
    import openpyxl  # noqa: F401 - imported before tracing, not counted

    import sentinel.files._arrowcsv  # noqa: F401 - imports pyarrow, likewise

    labels = [f"category {n:02d} " + "x" * 150 for n in range(50)]
    source = tmp_path / "large.csv"
    with source.open("w", encoding="utf-8") as stream:
        stream.write("label\n")
        stream.writelines(f"{labels[n % 50]}\n" for n in range(ROWS))
    size = source.stat().st_size
    tracemalloc.start()
    try:
        assert csv_to_xlsx(source, tmp_path / "large.xlsx") == ROWS
        _, written_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert xlsx_to_csv(tmp_path / "large.xlsx", tmp_path / "back.csv") == ROWS + 1
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written_peak < size / 3, (written_peak, size)
    assert read_peak < size / 3, (read_peak, size)
    with (tmp_path / "back.csv").open(encoding="utf-8") as stream:
        lines = [next(stream) for _ in range(3)]
    assert lines[2] == labels[1] + "\n"


def test_convert_refuses_other_pairs(tmp_path: Path) -> None:
    source = tmp_path / "a.json"
    source.write_text("[1]")
    with pytest.raises(FilesError, match="between CSV"):
        convert(source, tmp_path / "a.xlsx")


def test_cli_convert_writes_the_target(tmp_path: Path) -> None:
    source = tmp_path / "table.csv"
    source.write_text(TABLE)
    target = tmp_path / "table.xlsx"
    result = CliRunner().invoke(files, ["convert", str(source), str(target)])
    assert result.exit_code == 0, result.output
    assert "wrote 3 rows" in result.output
    assert XlsxFile.load(target).rows(0)[1][1] == "0123"


def one_sheet_workbook(tmp_path: Path) -> Path:
    source = tmp_path / "table.csv"
    source.write_text("id,name\n1,a\n")
    target = tmp_path / "book.xlsx"
    csv_to_xlsx(source, target, sheet="Data")
    return target


@pytest.mark.parametrize(
    ("sheet", "what"),
    [("Nope", "no sheet named 'Nope'"), (3, "no sheet at index 3")],
    ids=["name", "index"],
)
def test_xlsx_to_csv_unknown_sheet_lists_names(
    tmp_path: Path, sheet: str | int, what: str
) -> None:
    workbook = one_sheet_workbook(tmp_path)
    with pytest.raises(SheetNotFoundError) as caught:
        xlsx_to_csv(workbook, tmp_path / "out.csv", sheet=sheet)
    assert what in caught.value.message
    assert "its sheets are 'Data'" in caught.value.message
    assert caught.value.code == "sheet-not-found"
    assert isinstance(caught.value, LookupError)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "book.xlsx",
        "table.csv",
    ]


def test_convert_cli_unknown_sheet_is_clear(tmp_path: Path) -> None:
    workbook = one_sheet_workbook(tmp_path)
    target = tmp_path / "out.csv"
    result = CliRunner().invoke(
        files, ["convert", str(workbook), str(target), "--sheet", "Nope"]
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "no sheet named 'Nope'; its sheets are 'Data'" in result.output
    assert not target.exists()


@pytest.mark.parametrize(
    ("target", "what"),
    [("missing/out.csv", "does not exist"), ("table.csv/out.csv", "is not a folder")],
    ids=["missing-folder", "file-as-folder"],
)
def test_convert_cli_target_folder_is_clear(
    tmp_path: Path, target: str, what: str
) -> None:
    workbook = one_sheet_workbook(tmp_path)
    path = tmp_path / target
    result = CliRunner().invoke(files, ["convert", str(workbook), str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"cannot write {str(path)!r}: {str(path.parent)!r} {what}" in result.output
    assert "Create the folder first" in result.output
    assert sorted(item.name for item in tmp_path.iterdir()) == [
        "book.xlsx",
        "table.csv",
    ]


def test_convert_cli_write_error_is_clear(tmp_path: Path) -> None:
    workbook = one_sheet_workbook(tmp_path)
    target = tmp_path / "out.csv"
    # A folder where the temporary file would go makes opening it fail.
    (tmp_path / ".out.csv.part").mkdir()
    result = CliRunner().invoke(files, ["convert", str(workbook), str(target)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "conversion failed: [Errno 21] Is a directory" in result.output
    assert not target.exists()


@pytest.mark.parametrize(
    "sheet",
    ["a/b[c]", "x" * 32, "", "'quoted'", "what?"],
    ids=["characters", "too-long", "empty", "apostrophes", "question-mark"],
)
def test_csv_to_xlsx_rejects_invalid_sheet_name(tmp_path: Path, sheet: str) -> None:
    source = tmp_path / "table.csv"
    source.write_text("id\n1\n")
    target = tmp_path / "out.xlsx"
    with pytest.raises(FilesError) as caught:
        csv_to_xlsx(source, target, sheet=sheet)
    assert caught.value.code == "sheet-name"
    assert f"invalid sheet name {sheet!r}" in caught.value.message
    assert "1 to 31 characters" in caught.value.message
    assert not target.exists()


def test_csv_to_xlsx_keeps_31_character_sheet(tmp_path: Path) -> None:
    source = tmp_path / "table.csv"
    source.write_text("id\n1\n")
    target = tmp_path / "out.xlsx"
    csv_to_xlsx(source, target, sheet="x" * 31)
    assert XlsxFile.load(target).sheet_names == ["x" * 31]


def test_convert_cli_invalid_sheet_states_rule(tmp_path: Path) -> None:
    source = tmp_path / "table.csv"
    source.write_text("id\n1\n")
    target = tmp_path / "out.xlsx"
    result = CliRunner().invoke(
        files, ["convert", str(source), str(target), "--sheet", "a/b[c]"]
    )
    assert result.exit_code == 1
    assert "invalid sheet name 'a/b[c]'" in result.output
    assert "none of [ ] : * ? / \\" in result.output
    assert not target.exists()


@pytest.mark.parametrize(
    ("name", "title", "note"),
    [
        ("a[b]", "a_b_", ", sheet 'a_b_' (file name made a valid sheet name)"),
        ("y" * 40, "y" * 31, f", sheet {'y' * 31!r} (file name made a valid"),
        ("plain", "plain", ""),
    ],
    ids=["characters", "too-long", "valid"],
)
def test_convert_cli_names_changed_sheet(
    tmp_path: Path, name: str, title: str, note: str
) -> None:
    source = tmp_path / f"{name}.csv"
    source.write_text("id\n1\n")
    target = tmp_path / "out.xlsx"
    result = CliRunner().invoke(files, ["convert", str(source), str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote 1 rows to {target}{note}" in result.output
    assert XlsxFile.load(target).sheet_names == [title]


@pytest.mark.parametrize("sheet", ["data", "DATA", "Data"], ids=str)
def test_xlsx_to_csv_sheet_name_ignores_case(tmp_path: Path, sheet: str) -> None:
    workbook = one_sheet_workbook(tmp_path)
    target = tmp_path / "out.csv"
    assert xlsx_to_csv(workbook, target, sheet=sheet) == 2
    assert target.read_bytes() == b"id,name\r\n1,a\r\n"
