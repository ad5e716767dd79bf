"""Conversion between CSV and XLSX that keeps values and their types, streaming."""

from __future__ import annotations

import csv
import datetime
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sentinel.files._columns import convert_cell
from sentinel.files._csv import CsvFile
from sentinel.files._errors import FileOperationError, FilesError
from sentinel.files._xlsx import XlsxFile

DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
)
DURATION = re.compile(r"(-?)([0-9]+):([0-5][0-9]):([0-5][0-9](?:\.[0-9]{1,6})?)")
BOOLEANS = {"TRUE": True, "FALSE": False, "true": True, "false": False}
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DURATION_FORMAT = "[h]:mm:ss"
# Excel rejects sheet names longer than this, names with one of these
# characters, and names that start or end with an apostrophe.
MAX_SHEET_TITLE = 31
SHEET_TITLE_CHARACTERS = re.compile(r"[\[\]:*?/\\]")
SHEET_TITLE_RULE = (
    "Excel sheet names have 1 to 31 characters, none of [ ] : * ? / \\, and "
    "do not start or end with an apostrophe"
)


def typed_value(value: Any) -> Any:
    """Give a text cell its type: boolean, ISO date or datetime, else as is.

    Numbers and empty cells are converted by :meth:`CsvFile.typed_rows`
    already; this adds the types a CSV file writes as words and dates.
    """
    if type(value) is not str:
        return value
    if value in BOOLEANS:
        return BOOLEANS[value]
    if DATE.fullmatch(value):
        return _parse(datetime.date.fromisoformat, value)
    if DATETIME.fullmatch(value):
        return _parse(datetime.datetime.fromisoformat, value)
    duration = DURATION.fullmatch(value)
    if duration:
        sign, hours, minutes, seconds = duration.groups()
        span = datetime.timedelta(
            hours=int(hours), minutes=int(minutes), seconds=float(seconds)
        )
        return -span if sign else span
    return value


def _parse(parse: Any, value: str) -> Any:
    try:
        return parse(value)
    except ValueError:  # 2021-02-30 looks like a date and stays text
        return value


def csv_to_xlsx(
    source: str | Path,
    target: str | Path,
    *,
    sheet: str | None = None,
    na_values: bool | Iterable[str] | None = None,
) -> int:
    """Write the CSV file ``source`` as a one-sheet workbook ``target``.

    The sheet is named ``sheet``, which must be a valid Excel sheet name, or
    else after the file name as :func:`sheet_title` makes it valid.

    Rows stream from the CSV reader to openpyxl's write-only workbook, so
    memory stays bounded. Integers and decimals become numbers, ``TRUE``
    and ``FALSE`` booleans, ISO dates and datetimes dates with a date
    format, ``[h]:mm:ss`` durations, empty fields (and ``na_values``)
    empty cells; everything else, such as ``0123``, stays text. The header
    row is converted the same way. openpyxl keeps the distinct strings in
    memory until the shared-strings part is written at the end. Returns the
    number of data rows written.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    title = sheet_title(Path(source), sheet)
    loaded = CsvFile.load(source, na_values=na_values)
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title)
    # The first row is converted like the others, so a workbook whose first
    # row is data (a date, a number) comes back the same from CSV.
    worksheet.append([typed_value(convert_cell(name)) for name in loaded.header])
    formats = {
        datetime.date: DATE_FORMAT,
        datetime.datetime: DATETIME_FORMAT,
        datetime.timedelta: DURATION_FORMAT,
    }
    count = 0
    for row in loaded.typed_rows():
        cells: list[Any] = []
        for value in map(typed_value, row):
            kind = type(value)
            if kind in formats:
                cell = WriteOnlyCell(worksheet, value)
                cell.number_format = formats[kind]
                cells.append(cell)
            elif kind is float and float(f"{value:.16g}") != value:
                cells.append(_exact_number(worksheet, value))
            else:
                cells.append(value)
        worksheet.append(cells)
        count += 1
    _save(workbook, Path(target))
    return count


def xlsx_to_csv(
    source: str | Path,
    target: str | Path,
    *,
    sheet: str | int = 0,
    delimiter: str = ",",
) -> int:
    """Write one sheet of the workbook ``source`` as the CSV file ``target``.

    Rows are converted and written one at a time. Numbers with an integral
    value are written as integers (``15``, as Excel shows them) and other
    numbers in the shortest form that reads back to the same float; dates
    and datetimes in ISO form, durations as ``[h]:mm:ss``, booleans as
    ``TRUE`` and ``FALSE``, empty cells as empty fields. The file is UTF-8
    with CRLF line ends, as RFC 4180 asks. Returns the number of rows
    written, the first one included.
    """
    loaded = XlsxFile.load(source)
    try:
        count = 0
        temporary = Path(target).with_name(f".{Path(target).name}.part")
        try:
            with temporary.open("w", encoding="utf-8", newline="") as stream:
                writer = csv.writer(stream, delimiter=delimiter, lineterminator="\r\n")
                for row in loaded.iter_rows(sheet):
                    writer.writerow([csv_field(value) for value in row])
                    count += 1
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    finally:
        loaded.close()
    return count


def csv_field(value: Any) -> str:
    """Write one cell value as CSV text that :func:`typed_value` reads back."""
    if value is None:
        return ""
    kind = type(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is float:
        return _float_text(value)
    if kind is datetime.timedelta:
        return _duration_text(value)
    if kind is datetime.datetime:
        return str(value.isoformat(sep=" "))
    return str(value)  # a date or time prints in ISO form


def _duration_text(value: datetime.timedelta) -> str:
    """Write a duration as Excel's ``[h]:mm:ss``, such as ``255:10:10``."""
    sign = "-" if value < datetime.timedelta(0) else ""
    total = abs(value)
    minutes, seconds = divmod(total.days * 86400 + total.seconds, 60)
    hours, minutes = divmod(minutes, 60)
    fraction = f".{total.microseconds:06d}" if total.microseconds else ""
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}{fraction}"


def _float_text(value: float) -> str:
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = repr(value)
    # "1e+20" would read back as text; "1.0e+20" reads as a decimal.
    mantissa, _, exponent = text.partition("e")
    if math.isfinite(value) and "." not in mantissa:
        text = f"{mantissa}.0" + (f"e{exponent}" if exponent else "")
    return text


def convert(source: str | Path, target: str | Path, **options: Any) -> int:
    """Convert between CSV and XLSX by the two files' extensions."""
    source, target = Path(source), Path(target)
    _check_target_folder(target)
    pair = (source.suffix.lower(), target.suffix.lower())
    if pair in {(".csv", ".xlsx"), (".tsv", ".xlsx"), (".txt", ".xlsx")}:
        return csv_to_xlsx(source, target, **options)
    if pair in {(".xlsx", ".csv"), (".xlsm", ".csv"), (".xlsx", ".tsv")}:
        if pair[1] == ".tsv":
            options.setdefault("delimiter", "\t")
        return xlsx_to_csv(source, target, **options)
    raise FilesError(
        f"cannot convert {source.name} to {target.name}: conversion runs between "
        f"CSV (or TSV) and XLSX",
        code="conversion",
        hint="Name the target .xlsx for a CSV source, or .csv for a workbook.",
    )


def _exact_number(worksheet: Any, value: float) -> Any:
    """Write a float that needs 17 digits, which openpyxl rounds to 16.

    The cell carries the shortest text that reads back to the same float,
    typed as a number, so the workbook holds the exact value.
    """
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(worksheet, repr(value))
    cell.data_type = "n"
    return cell


def sheet_title(source: Path, sheet: str | None = None) -> str:
    """Return the sheet name that :func:`csv_to_xlsx` writes for ``source``.

    Raises :class:`FilesError` when ``sheet`` is not a valid Excel sheet
    name. Without ``sheet``, the file name's stem is made valid: each
    rejected character becomes ``_`` and the name is cut to 31 characters.
    """
    if sheet is None:
        cleaned = SHEET_TITLE_CHARACTERS.sub("_", source.stem).strip("'")
        return cleaned[:MAX_SHEET_TITLE] or "Sheet1"
    if (
        not sheet
        or len(sheet) > MAX_SHEET_TITLE
        or SHEET_TITLE_CHARACTERS.search(sheet)
        or sheet.startswith("'")
        or sheet.endswith("'")
    ):
        raise FilesError(
            f"invalid sheet name {sheet!r} ({len(sheet)} characters): "
            f"{SHEET_TITLE_RULE}",
            code="sheet-name",
            hint="Choose a sheet name that follows this rule.",
        )
    return sheet


def _check_target_folder(target: Path) -> None:
    """Raise FileOperationError unless the target's folder exists."""
    folder = target.parent
    if folder.is_dir():
        return
    problem = "is not a folder" if folder.exists() else "does not exist"
    raise FileOperationError(
        f"cannot write {str(target)!r}: {str(folder)!r} {problem}",
        hint="Create the folder first, or choose a target in an existing folder.",
    )


def _save(workbook: Any, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.part")
    try:
        workbook.save(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
