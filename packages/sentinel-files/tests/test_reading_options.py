"""Reading options: the JSON number policy and CSV missing-value markers."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from sentinel.files import CsvFile, InvalidFileError, JsonFile, load_file
from sentinel.files._csv import NA_VALUES

from .test_corpus import CORPUS

NAN_FILE = CORPUS / "json" / "n_number_NaN.json"
HUGE_FILE = CORPUS / "json" / "i_number_huge_exp.json"
needs_corpus = pytest.mark.skipif(
    not NAN_FILE.is_file(), reason=f"corpus not found at {CORPUS}"
)


@needs_corpus
@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        (NAN_FILE, "json-constant", "NaN is not valid JSON"),
        (HUGE_FILE, "number-overflow", "would read as infinity"),
    ],
    ids=["nan", "huge-exponent"],
)
def test_json_strict_policy_rejects_corpus_file(
    path: Path, code: str, words: str
) -> None:
    with pytest.raises(InvalidFileError) as caught:
        load_file(path)
    assert caught.value.code == code
    assert words in str(caught.value)
    assert caught.value.location == {"row": 1, "column": 2}
    assert "(at line 1, column 2)" in caught.value.describe()
    assert "set files.json_numbers to flag in the config" in caught.value.hint
    assert 'pass numbers="flag" to JsonFile.load' in caught.value.hint


@needs_corpus
def test_json_flag_policy_reads_nan_with_a_located_warning() -> None:
    loaded = load_file(NAN_FILE, numbers="flag")
    assert isinstance(loaded, JsonFile)
    [value] = loaded.data
    assert math.isnan(value)
    [warning] = loaded.warnings
    assert (warning.code, warning.row, warning.column) == ("json-constant", 1, 2)
    assert "line 1, column 2" in warning.message


@needs_corpus
def test_json_flag_policy_reads_overflow_as_infinity_with_a_warning() -> None:
    loaded = JsonFile.load(HUGE_FILE, numbers="flag")
    assert loaded.data == [math.inf]
    [warning] = loaded.warnings
    assert (warning.code, warning.row, warning.column) == ("number-overflow", 1, 2)


def test_json_flag_policy_locates_each_number_past_strings(tmp_path: Path) -> None:
    path = tmp_path / "values.json"
    path.write_text(
        '{"note": "NaN and 1e999 inside a string",\n'
        ' "values": [1.5, -Infinity,\n   1e999, Infinity, 12]}\n'
    )
    loaded = JsonFile.load(path, numbers="flag")
    assert loaded.data["values"][:2] == [1.5, -math.inf]
    located = [(w.code, w.row, w.column) for w in loaded.warnings]
    assert located == [
        ("json-constant", 2, 18),
        ("number-overflow", 3, 4),
        ("json-constant", 3, 11),
    ]


def test_json_strict_policy_reports_the_first_number_location(tmp_path: Path) -> None:
    path = tmp_path / "values.json"
    path.write_text('{"a": "NaN",\n "b": [0, -Infinity]}')
    with pytest.raises(InvalidFileError) as caught:
        JsonFile.load(path)
    assert "-Infinity" in caught.value.message
    assert caught.value.location == {"row": 2, "column": 11}


def test_json_large_integer_is_not_an_overflow(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text("[" + "9" * 400 + "]")
    assert JsonFile.load(path).data == [int("9" * 400)]


def test_json_integer_at_digit_limit_reads_exactly(tmp_path: Path) -> None:
    digits = sys.get_int_max_str_digits()
    path = tmp_path / "limit.json"
    path.write_text("[" + "9" * digits + "]")
    assert JsonFile.load(path).data == [int("9" * digits)]


@pytest.mark.parametrize("sign", ["", "-"], ids=["positive", "negative"])
def test_json_strict_rejects_too_many_digits(tmp_path: Path, sign: str) -> None:
    path = tmp_path / "huge.json"
    path.write_text('{"id": "1e999",\n "n": [1, ' + sign + "9" * 100_000 + "]}")

    with pytest.raises(InvalidFileError) as caught:
        JsonFile.load(path)

    error = caught.value
    assert error.code == "number-overflow"
    assert "has 100000 digits" in error.message
    assert f"more than the {sys.get_int_max_str_digits()}" in error.message
    assert error.location == {"row": 2, "column": 11}
    assert "Send the number as a string" in error.hint
    assert "files.json_numbers" in error.hint


def test_json_flag_reads_too_many_digits_as_infinity(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_text('{"a": {"a": 1}, "a": [5, -' + "9" * 5000 + "]}")

    loaded = JsonFile.load(path, numbers="flag")

    assert loaded.data == {"a": [5, -math.inf]}
    codes = [issue.code for issue in loaded.issues]
    assert codes == ["duplicate-key", "number-overflow"]
    warning = loaded.issues[1]
    assert "of 5000 digits" in warning.message
    assert "reads as -inf" in warning.message
    assert (warning.row, warning.column) == (1, 26)


def test_json_unknown_number_policy_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("[1]")
    with pytest.raises(ValueError, match="'lenient' is not a policy"):
        JsonFile.load(path, numbers="lenient")


def test_load_file_refuses_an_option_no_class_accepts(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("[1]")
    with pytest.raises(TypeError, match="na_value"):
        load_file(path, na_value=True)


def test_load_file_passes_each_class_only_its_options(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,score\n1,NA\n")
    loaded = load_file(path, numbers="flag", na_values=True)
    assert isinstance(loaded, CsvFile)
    assert list(loaded.records()) == [{"id": "1", "score": None}]


NA_TABLE = "id,country,score,note\n1,NA,12,N/A\n2,NO,NULL,\\N\n3,,7,x\n"


def test_csv_keeps_missing_value_markers_as_text_by_default(tmp_path: Path) -> None:
    path = tmp_path / "na.csv"
    path.write_text(NA_TABLE)
    loaded = CsvFile.load(path)
    assert [r["country"] for r in loaded.records()] == ["NA", "NO", ""]
    assert [row[2] for row in loaded.typed_rows()] == [12, "NULL", 7]


def test_csv_na_values_true_reads_the_usual_markers_as_none(tmp_path: Path) -> None:
    path = tmp_path / "na.csv"
    path.write_text(NA_TABLE)
    loaded = CsvFile.load(path, na_values=True)
    assert {"NA", "N/A", "NULL", "\\N", ""} <= set(NA_VALUES)
    assert list(loaded.records()) == [
        {"id": "1", "country": None, "score": "12", "note": None},
        {"id": "2", "country": "NO", "score": None, "note": None},
        {"id": "3", "country": None, "score": "7", "note": "x"},
    ]
    assert list(loaded.typed_rows()) == [
        [1, None, 12, None],
        [2, "NO", None, None],
        [3, None, 7, "x"],
    ]
    assert loaded.column_plan().kinds[2] == "integer"
    assert next(loaded.rows()) == ["1", "NA", "12", "N/A"]


def test_csv_na_values_list_reads_only_those_markers(tmp_path: Path) -> None:
    path = tmp_path / "na.csv"
    path.write_text(NA_TABLE)
    loaded = CsvFile.load(path, na_values=["\\N"])
    assert [r["note"] for r in loaded.records()] == ["N/A", None, "x"]
    assert [r["country"] for r in loaded.records()] == ["NA", "NO", ""]


def test_csv_na_values_as_one_string_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "na.csv"
    path.write_text(NA_TABLE)
    with pytest.raises(TypeError, match="one string"):
        CsvFile.load(path, na_values="NA")


@needs_corpus
def test_csv_na_values_on_corpus_tsv_reads_backslash_n_as_none() -> None:
    loaded = load_file(CORPUS / "other" / "table.tsv", na_values=True)
    assert isinstance(loaded, CsvFile)
    assert [r["name"] for r in loaded.records()][2] is None
