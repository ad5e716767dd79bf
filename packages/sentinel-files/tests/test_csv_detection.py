"""CSV detection shortcuts give the results of the cell-by-cell and full rules."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from pathlib import Path

import pytest

from sentinel.files import CsvFile, detect_dialect
from sentinel.files._columns import (
    DECIMAL,
    DECIMAL_COLUMN,
    INTEGER,
    INTEGER_COLUMN,
    MIXED,
    TEXT,
    convert_cell,
    convert_cells,
    plan_columns,
)
from sentinel.files._dialect import (
    CONSISTENCY_SLACK,
    DELIMITER_NAMES,
    DELIMITERS,
    MAX_SAMPLE_RECORDS,
    read_dialect,
)
from sentinel.files._encoding import guess_single_byte

# Values where a check of a whole column could disagree with the rule that
# matches one value at a time.
HARD_VALUES = [
    "0",
    "00",
    "0123",
    "-0",
    "+0",
    "+5",
    "-12",
    "--1",
    "+-1",
    "-",
    "+",
    ".",
    "1e5",
    "1.5e3",
    "5.E3",
    "1.5e",
    "1.5e+",
    "5e5.5",
    "1.",
    ".5",
    "-.5",
    "+.5e-3",
    "0.0",
    "-0.0",
    "00.5",
    "0.50",
    "1.2.3",
    "NA",
    "nan",
    "inf",
    "1_000",
    " 12",
    "12 ",
    "12\r",
    "9" * 25,
    "9223372036854775808",
    "1,5",
    "١٢",
    "0x10",
    "x",
    "é",
    "a\nb",
    "1\n2",
    "\n",
    "1\n",
    "\n1",
    "0.5\n0.5",
]


def kind_by_cell(values: list[str]) -> str:
    """Apply the kind rule to one value at a time."""
    values = [value for value in values if value != ""]
    if not values:
        return MIXED
    integers = sum(1 for value in values if INTEGER.fullmatch(value))
    decimals = sum(1 for value in values if DECIMAL.fullmatch(value))
    if integers == len(values):
        return INTEGER_COLUMN
    if decimals == len(values):
        return DECIMAL_COLUMN
    if integers == decimals == 0:
        return TEXT
    return MIXED


def kind(values: list[str]) -> str:
    return plan_columns([[value] for value in values], 1).kinds[0]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-2", "+3", "0"], INTEGER_COLUMN),
        (["1", "", "2"], INTEGER_COLUMN),
        (["9" * 40, "-" + "9" * 30], INTEGER_COLUMN),
        (["1", "0123"], MIXED),
        (["0123", "007"], TEXT),
        (["1.5", "-.5", "+0.25e-3", "2.0E+10"], DECIMAL_COLUMN),
        (["1.5", "2"], MIXED),
        (["1.", "1e5", "5.E3"], TEXT),
        (["NA", "12"], MIXED),
        (["NA", "n/a"], TEXT),
        (["", ""], MIXED),
        ([], MIXED),
        (["1\n2", "3"], MIXED),
        (["1\n2", "a"], TEXT),
        (["12\n", "\n1"], TEXT),
        (["1,5", "2,5"], TEXT),
        (["a", "b", "3"], MIXED),
        (["a", "b", "3.5"], MIXED),
        (["a1", "b2"], TEXT),
    ],
    ids=lambda value: repr(value)[:30],
)
def test_plan_columns_kind(values: list[str], expected: str) -> None:
    assert kind(values) == expected
    assert kind_by_cell(values) == expected


@pytest.mark.parametrize("value", HARD_VALUES, ids=repr)
def test_plan_columns_single_hard_value(value: str) -> None:
    assert kind([value]) == kind_by_cell([value])
    assert kind([value, value]) == kind_by_cell([value, value])
    assert kind(["7", value]) == kind_by_cell(["7", value])
    assert kind(["0.5", value]) == kind_by_cell(["0.5", value])
    assert kind(["text", value]) == kind_by_cell(["text", value])


def test_plan_columns_random_mixes_match_cell_rule() -> None:
    rng = random.Random(11)
    pool = [*HARD_VALUES, "", "", "42", "3.14", "abc"]
    for _ in range(5000):
        choices = rng.sample(pool, rng.randint(1, 4))
        values = [rng.choice(choices) for _ in range(rng.randint(1, 6))]
        assert kind(values) == kind_by_cell(values), values


def test_plan_columns_ragged_records() -> None:
    records = [["1", "a"], ["2"], ["3", "b", "4.5"], [], ["x", "", "1.5", "9"]]
    plan = plan_columns(records, 4)
    assert plan.kinds == (MIXED, TEXT, DECIMAL_COLUMN, INTEGER_COLUMN)


def test_plan_columns_wider_than_records() -> None:
    assert plan_columns([["1"], ["2"]], 3).kinds == (INTEGER_COLUMN, MIXED, MIXED)
    assert plan_columns([], 2).kinds == (MIXED, MIXED)


@pytest.mark.parametrize(
    "values",
    [
        [],
        HARD_VALUES,
        ["007", "12", "", "NA", "1.5"] * 20,
        [str(n) for n in range(50)] + ["0123", ""],
    ],
    ids=["empty", "distinct", "repeated", "mostly-distinct"],
)
def test_convert_cells_matches_convert_cell(values: list[str]) -> None:
    expected = [convert_cell(value) for value in values]
    assert [repr(value) for value in convert_cells(values)] == list(map(repr, expected))


def test_convert_cells_keeps_none() -> None:
    assert convert_cells([None, "1", None, "x"]) == [None, 1, None, "x"]
    assert convert_cells([None] * 4 + ["1.5"]) == [None] * 4 + [1.5]


def fit_by_full_parse(sample: str, complete: bool, delimiter: str) -> tuple[float, int]:
    """Return the consistency and field count of ``delimiter`` from a full parse."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    counts = []
    for record in reader:
        if record:
            counts.append(len(record))
        if len(counts) > MAX_SAMPLE_RECORDS:
            break
    if not complete and len(counts) > 1:
        counts.pop()
    if not counts:
        return 0.0, 0
    fields, agreeing = Counter(counts).most_common(1)[0]
    return agreeing / len(counts), fields


def reason_by_full_parse(sample: str, complete: bool) -> str:
    fits = {d: fit_by_full_parse(sample, complete, d) for d in DELIMITERS}
    usable = {d: fit for d, fit in fits.items() if fit[1] > 1}
    if not usable:
        return "one column; no candidate delimiter splits the lines"
    best = max(share for share, _ in usable.values())
    close = [d for d, fit in usable.items() if fit[0] >= best - CONSISTENCY_SLACK]
    chosen = max(close, key=lambda d: (usable[d][1], -DELIMITERS.index(d)))
    share, fields = usable[chosen]
    return (
        f"{DELIMITER_NAMES[chosen]}: {round(share * 100)}% of sampled records "
        f"have {fields} fields"
    )


SAMPLES = {
    "comma": "a,b,c\n1,2,3\n4,5,6\n",
    "semicolon with commas": "a;b\n1,5;2,5\n3,5;4\n",
    "absent candidates": "name\nAnne\nBob\n",
    "colon in quoted urls": 'a,b\n"http://x",1\n"https://y:8080",2\n',
    "quoted delimiters": 'a|b\n"1|2"|3\n"4|5"|6\n',
    "tabs and a ragged row": "a\tb\n1\t2\n3\n4\t5\n",
    "quoted line breaks": 'a,b\n"x\ny",1\n"z",2\n',
    "blank lines": "a;b\n\n1;2\n\r\n3;4\n",
    "empty": "",
}


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=SAMPLES.keys())
@pytest.mark.parametrize("complete", [True, False], ids=["complete", "cut"])
def test_detect_dialect_reason_matches_full_parse(sample: str, complete: bool) -> None:
    assert detect_dialect(sample, complete).reason == reason_by_full_parse(
        sample, complete
    )


def test_detect_dialect_reason_past_record_limit() -> None:
    lines = ["a,b"] + [f"{n},{n}" for n in range(MAX_SAMPLE_RECORDS + 50)]
    lines += ["1;2;3;4"] * 100
    sample = "\n".join(lines) + "\n"
    reason = detect_dialect(sample, False).reason
    assert reason == reason_by_full_parse(sample, False)
    assert reason == "comma: 100% of sampled records have 2 fields"


# Samples where no candidate splits a line, so detection keeps no records.
ONE_COLUMN_SAMPLES = {"absent candidates", "empty"}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_read_dialect_records_match_fresh_reader(name: str) -> None:
    sample = SAMPLES[name]
    dialect, records = read_dialect(sample, True)
    if name in ONE_COLUMN_SAMPLES:
        assert records is None
        return
    assert records is not None
    fresh = csv.reader(io.StringIO(sample, newline=""), **dialect.reader_options())
    assert list(records) == [record for record in fresh if record]


def test_read_dialect_records_past_record_limit() -> None:
    lines = ["a,b"] + [f'{n},"x,{n}"' for n in range(3 * MAX_SAMPLE_RECORDS)]
    sample = "\n\n".join(lines)
    dialect, records = read_dialect(sample, False)
    assert records is not None
    fresh = csv.reader(io.StringIO(sample, newline=""), **dialect.reader_options())
    assert list(records) == [record for record in fresh if record]


def test_read_dialect_without_records() -> None:
    assert read_dialect("a\nb\n", True)[1] is None
    assert read_dialect("a\tb\n1\t2\n", True, "\t")[1] is None
    spaced = 'a, "b"\n1, "2"\n'
    dialect, records = read_dialect(spaced, True)
    assert dialect.skipinitialspace
    assert records is None
    escaped = 'a,b\n"say \\"hi\\"",1\n'
    dialect, records = read_dialect(escaped, True)
    assert dialect.escapechar == "\\"
    assert records is None


@pytest.mark.parametrize(
    "lines",
    [
        ["id,code,note"] + [f'{n},{n % 50:03d},"a, {n}"' for n in range(9000)],
        ["id;x"] + [f"{n};{n}.5" if n % 9 else "" for n in range(9000)],
        ["a,b"] + [f'{n},"line\nbreak {n}"' for n in range(9000)],
        ['a, "b"'] + [f'{n}, "{n}"' for n in range(9000)],
    ],
    ids=["quoted-commas", "blank-lines", "quoted-newlines", "space-before-quote"],
)
def test_column_plan_equals_fresh_parse(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "sample.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = CsvFile.load(path)
    reader = csv.reader(
        io.StringIO(loaded._sample, newline=""), **loaded.dialect.reader_options()
    )
    records = [record for record in reader if record]
    assert not loaded._sample_complete
    records.pop()
    expected = plan_columns(records[1:], len(loaded.header)).kinds
    assert loaded.column_plan().kinds == expected
    assert loaded.column_plan() is loaded.column_plan()


def guess_by_byte(data: bytes) -> str:
    """Apply the single-byte encoding rule one byte at a time."""
    high = [byte for byte in data if byte >= 0x80]
    runs: list[int] = []
    length = 0
    for byte in [*data, 0]:
        if 0xB6 <= byte <= 0xFE:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    letters = sum(runs)
    in_runs = sum(run for run in runs if run > 1)
    greek = letters > 0 and in_runs / letters >= 0.6
    if greek and not {0xAE, 0xD2, 0xFF} & set(high):
        return "iso-8859-7"
    controls = {byte for byte in high if byte < 0xA0}
    if controls and not {0x81, 0x8D, 0x8F, 0x90, 0x9D} & controls:
        return "cp1252"
    return "latin-1"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Αθήνα,Θεσσαλονίκη".encode("iso-8859-7"), "iso-8859-7"),
        ("Année, Nabrežina, €5".encode("cp1252"), "cp1252"),
        ("Année, Zürich".encode("latin-1"), "latin-1"),
        ("Αθήνα".encode("iso-8859-7") + b"\xff", "latin-1"),
    ],
    ids=["greek", "cp1252", "latin-1", "greek-undefined-byte"],
)
def test_guess_single_byte(data: bytes, expected: str) -> None:
    assert guess_single_byte(data).encoding == expected
    assert guess_by_byte(data) == expected


def test_guess_single_byte_random_bytes() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        pool = [rng.randrange(256) for _ in range(rng.randint(1, 6))] + [0x61, 0x20]
        data = bytes(rng.choice(pool) for _ in range(rng.randint(0, 40)))
        assert guess_single_byte(data).encoding == guess_by_byte(data), data
