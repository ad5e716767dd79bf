"""Input files of the files benchmark: generated CSV and XLSX, and corpus picks."""

from __future__ import annotations

import csv
import datetime
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Fixed so every run, and every tool within a run, reads the same bytes.
SEED = 20240229
FIRST_NAMES = ("Ana", "Björn", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustavo")
CITIES = ("Zürich", "São Paulo", "Kraków", "Reykjavík", "Osaka", "Nairobi")
STATUSES = ("open", "closed", "NA", "pending", "no", "on")

# Real files read when the corpus folder is present. They are the largest
# CSV (Windows-1252, semicolons, line breaks in quoted header cells), a clean
# numeric CSV and a wide text CSV. The workbooks are the largest one and one
# whose declared dimension (A1:XFD1048576) is far larger than its data.
CORPUS_PICKS = (
    "csv/issue-811.csv",
    "csv/airports.csv",
    "csv/country-codes.csv",
    "xlsx/shuttles.xlsx",
    "xlsx/issue_174.xlsx",
)


@dataclass(frozen=True)
class InputFile:
    """One file every tool of its format reads, with the options they share."""

    format: str
    label: str
    path: Path
    options: dict[str, Any] = field(default_factory=dict)


Column = Callable[[random.Random, int], Any]


def _identifier(rng: random.Random, row: int) -> Any:
    return row + 1


def _amount(rng: random.Random, row: int) -> Any:
    return round(rng.uniform(-5000, 50000), 2)


def _name(rng: random.Random, row: int) -> Any:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(CITIES)}"


def _zero_padded_code(rng: random.Random, row: int) -> Any:
    # Stays text in every typed reader that respects leading zeros.
    return f"{rng.randrange(10000):05d}"


def _date(rng: random.Random, row: int) -> Any:
    return datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randrange(2000))


def _flag(rng: random.Random, row: int) -> Any:
    return rng.random() < 0.5


def _quantity(rng: random.Random, row: int) -> Any:
    # About one cell in twenty is empty, as in real exports.
    return None if rng.random() < 0.05 else rng.randrange(1, 1000)


def _note(rng: random.Random, row: int) -> Any:
    return f'{rng.choice(CITIES)}, shelf {rng.randrange(99)}; "checked"'


def _ratio(rng: random.Random, row: int) -> Any:
    return rng.random() / 1000


def _status(rng: random.Random, row: int) -> Any:
    return rng.choice(STATUSES)


COLUMNS: tuple[tuple[str, Column], ...] = (
    ("id", _identifier),
    ("amount", _amount),
    ("customer", _name),
    ("code", _zero_padded_code),
    ("date", _date),
    ("paid", _flag),
    ("quantity", _quantity),
    ("note", _note),
    ("ratio", _ratio),
    ("status", _status),
)


def header(columns: int) -> list[str]:
    """Name ``columns`` columns, repeating the ten kinds with a numeric suffix."""
    names = []
    for index in range(columns):
        name, _ = COLUMNS[index % len(COLUMNS)]
        round_number = index // len(COLUMNS)
        names.append(f"{name}_{round_number}" if round_number else name)
    return names


def records(rows: int, columns: int) -> Iterator[list[Any]]:
    """Yield ``rows`` records of mixed types, the same ones on every call."""
    rng = random.Random(SEED)  # noqa: S311 - test data, not a secret
    kinds = [COLUMNS[index % len(COLUMNS)][1] for index in range(columns)]
    for row in range(rows):
        yield [kind(rng, row) for kind in kinds]


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def write_csv(path: Path, rows: int, columns: int) -> InputFile:
    """Write the generated table as UTF-8 CSV with a header row."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header(columns))
        for record in records(rows, columns):
            writer.writerow([_csv_text(value) for value in record])
    label = f"generated {rows:,} x {columns}"
    return InputFile("csv", label, path, {"encoding": "utf-8", "delimiter": ","})


def write_xlsx(path: Path, rows: int, columns: int) -> InputFile:
    """Write the generated table as one XLSX sheet with native cell types."""
    try:
        import xlsxwriter
    except ImportError:
        _write_xlsx_openpyxl(path, rows, columns)
    else:
        _write_xlsx_xlsxwriter(xlsxwriter, path, rows, columns)
    return InputFile("xlsx", f"generated {rows:,} x {columns}", path)


def _write_xlsx_xlsxwriter(module: Any, path: Path, rows: int, columns: int) -> None:
    # constant_memory streams rows to disk, so writing stays small in memory.
    workbook = module.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("data")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, header(columns))
    for row, record in enumerate(records(rows, columns), start=1):
        for column, value in enumerate(record):
            if value is None:
                continue
            if isinstance(value, datetime.date):
                sheet.write_datetime(row, column, value, date_format)
            else:
                sheet.write(row, column, value)
    workbook.close()


def _write_xlsx_openpyxl(path: Path, rows: int, columns: int) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append(header(columns))
    for record in records(rows, columns):
        sheet.append(record)
    workbook.save(path)


def corpus_files(corpus: Path) -> list[InputFile]:
    """Return the picked corpus files that exist under ``corpus``."""
    picked = []
    for relative in CORPUS_PICKS:
        path = corpus / relative
        if path.is_file():
            kind = path.suffix.lstrip(".")
            picked.append(InputFile(kind, f"corpus {relative}", path))
    return picked


def csv_options(path: Path) -> dict[str, Any]:
    """Return the encoding and delimiter sentinel detects, for the other readers.

    The standard csv module and pandas get them for free, so their times
    leave out detection. A file that sentinel cannot read falls back to
    UTF-8 and a comma.
    """
    from sentinel.files import CsvFile, FilesError

    try:
        loaded = CsvFile.load(path)
    except FilesError:
        return {"encoding": "utf-8", "delimiter": ","}
    return {"encoding": loaded.encoding, "delimiter": loaded.dialect.delimiter}
