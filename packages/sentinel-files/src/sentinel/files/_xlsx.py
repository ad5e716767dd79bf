"""XLSX and XLSM workbooks read with python-calamine."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as safe_etree

from sentinel.files._base import DataFile
from sentinel.files._errors import (
    EncryptedFileError,
    InvalidFileError,
    SheetNotFoundError,
    UnsafeContentError,
)
from sentinel.files._limits import (
    DEFAULT_LIMITS,
    WorkbookLimits,
    check_package,
    check_sheet,
)
from sentinel.files._ooxml import PackageFacts, read_package_facts, sheet_parts

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MAX_MERGED_LISTED = 100


class XlsxFile(DataFile):
    """An Office Open XML workbook (Transitional or Strict).

    Loading checks the container and opens the workbook with python-calamine,
    which reads the sheet list and shared strings; the open workbook serves
    every later :meth:`rows` call. The per-sheet shapes, merged ranges, date
    system and error cells are read on first use of :attr:`sheets`,
    :meth:`summary` or :meth:`validate`.

    Before python-calamine reads anything, the ZIP directory is checked
    against ``limits`` (:class:`WorkbookLimits`): sheet and shared-string
    parts too large or too compressed are refused, and before a sheet is
    read its grid of values is measured in a streaming pass, so a cell bomb
    is refused as :class:`UnsafeContentError` with a bounded amount of memory.
    """

    __slots__ = (
        "_checked",
        "_facts",
        "_parts",
        "_sheets",
        "_workbook",
        "limits",
        "sheet_names",
    )

    format = "xlsx"
    extensions = (".xlsx",)
    options = ("limits",)

    def __init__(self, path: Path, *, limits: WorkbookLimits | None = None) -> None:
        super().__init__(path)
        self.limits = limits or DEFAULT_LIMITS
        self._parts: dict[str, str] = {}
        self._checked: set[str] = set()
        self.sheet_names: list[str] = []
        self._sheets: list[dict[str, Any]] = []
        self._facts = PackageFacts()
        self._workbook: Any = None

    def _parse(self) -> None:
        self._check_magic()
        self._check_limits()
        self._workbook = self._open_workbook()
        metadata = self._workbook.sheets_metadata
        if not metadata:
            self.close()
            raise InvalidFileError(
                f"{self.path}: the workbook lists no sheets; the file is corrupt",
                code="corrupt",
                hint="Open and save the workbook again in a spreadsheet program.",
            )
        self.sheet_names = [meta.name for meta in metadata]

    def _finish(self) -> None:
        self._read_package()
        workbook = self._workbook or self._open_workbook()
        try:
            self._sheets = [
                self._read_sheet(workbook, meta) for meta in workbook.sheets_metadata
            ]
        finally:
            if workbook is not self._workbook:
                workbook.close()

    @property
    def sheets(self) -> list[dict[str, Any]]:
        """Each sheet's name, type, visibility, shape and merged ranges."""
        self.validate()
        return self._sheets

    @property
    def date1904(self) -> bool:
        """True when the workbook counts dates from 1904 (old Mac Excel)."""
        self.validate()
        return self._facts.date1904

    @property
    def has_macros(self) -> bool:
        """True when the package holds a VBA project; it is never run."""
        self.validate()
        return self._facts.has_macros

    def _check_magic(self) -> None:
        with self.path.open("rb") as stream:
            magic = stream.read(8)
        if magic == OLE_MAGIC:
            raise EncryptedFileError(
                f"{self.path}: the workbook is encrypted or password-protected "
                f"(an OLE container, not a ZIP package)",
                hint="Remove the password in the spreadsheet program and re-send.",
            )
        if not magic.startswith(ZIP_MAGIC):
            raise InvalidFileError(
                f"{self.path}: not a ZIP package (starts with {magic[:4]!r}); "
                f"the workbook is corrupt or not an {self.format.upper()} file",
                code="corrupt",
                hint="Check that the file was copied completely.",
            )

    def _check_limits(self) -> None:
        """Check the package's part sizes and find each sheet's part."""
        try:
            with zipfile.ZipFile(self.path) as archive:
                check_package(archive, self.limits, str(self.path))
                names = set(archive.namelist())
                if "xl/workbook.xml" in names:
                    workbook = safe_etree.fromstring(archive.read("xl/workbook.xml"))
                    self._parts = sheet_parts(archive, workbook, names)
        except (zipfile.BadZipFile, KeyError, OSError, SyntaxError):
            # Left to python-calamine, whose error names what is broken.
            self._parts = {}

    def _check_sheet(self, name: str) -> None:
        """Measure a sheet's grid before python-calamine allocates it."""
        part = self._parts.get(name)
        if part is None or name in self._checked:
            return
        try:
            with zipfile.ZipFile(self.path) as archive:
                check_sheet(archive, part, name, self.limits, str(self.path))
        except (zipfile.BadZipFile, OSError) as exc:
            raise InvalidFileError(
                f"{self.path}: the workbook package is corrupt: {exc}",
                code="corrupt",
                hint="Check that the file was copied completely.",
                location={"sheet": name},
            ) from None
        self._checked.add(name)

    def _read_package(self) -> None:
        try:
            with zipfile.ZipFile(self.path) as archive:
                facts = read_package_facts(archive)
        except (zipfile.BadZipFile, KeyError, OSError, SyntaxError) as exc:
            raise InvalidFileError(
                f"{self.path}: the workbook package is corrupt: {exc}",
                code="corrupt",
                hint="Check that the file was copied completely.",
            ) from None
        self._facts = facts
        for cell in facts.error_cells:
            self.warn(
                "error-cell",
                f"cell holds the Excel error {cell.value}",
                hint="Fix the formula in the workbook if the value is needed.",
                sheet=cell.sheet,
                row=cell.row,
                column=cell.column,
            )

    def _open_workbook(self) -> Any:
        import python_calamine

        try:
            return python_calamine.CalamineWorkbook.from_path(str(self.path))
        except python_calamine.PasswordError:
            raise EncryptedFileError(
                f"{self.path}: the workbook is password-protected",
                hint="Remove the password in the spreadsheet program and re-send.",
            ) from None
        except (python_calamine.CalamineError, ValueError, OSError) as exc:
            raise self._read_error(exc) from None

    def _read_error(self, exc: Exception, sheet: str | None = None) -> InvalidFileError:
        """Turn a python-calamine error into a FilesError; its limits into a bomb."""
        location = {"sheet": sheet} if sheet else None
        if "limit" in str(exc).lower():
            return UnsafeContentError(
                f"{self.path}: the workbook is refused as a cell bomb: {exc}",
                code="cell-bomb",
                hint="Remove empty rows and columns or split the workbook.",
                location=location,
            )
        return InvalidFileError(
            f"{self.path}: the workbook cannot be read: {exc}",
            code="corrupt",
            hint="Open and save the workbook again in a spreadsheet program.",
            location=location,
        )

    def _read_sheet(self, workbook: Any, meta: Any) -> dict[str, Any]:
        info: dict[str, Any] = {
            "name": meta.name,
            "type": _enum_name(meta.typ),
            "visible": _enum_name(meta.visible),
            "rows": 0,
            "columns": 0,
            "merged": [],
        }
        if info["type"] != "worksheet":
            return info
        self._check_sheet(meta.name)
        try:
            sheet = workbook.get_sheet_by_name(meta.name)
        except Exception as exc:  # noqa: BLE001 - calamine raises many unrelated types
            # A sheet that cannot be read, such as one whose cells point
            # past the shared strings table, leaves the workbook unusable.
            raise self._read_error(exc, meta.name) from None
        info["rows"] = sheet.height
        info["columns"] = sheet.width
        merged = sheet.merged_cell_ranges or []
        info["merged_count"] = len(merged)
        info["merged"] = [_range_name(item) for item in merged[:MAX_MERGED_LISTED]]
        if sheet.height == 0:
            self.warn(
                "empty-sheet", f"sheet {meta.name!r} has no cells", sheet=meta.name
            )
        return info

    def rows(self, sheet: str | int = 0) -> list[list[Any]]:
        """Read the used range of one sheet, by name or index, as Python values.

        A name without an exact match matches a sheet's name ignoring case.
        Dates honour the workbook's date system; error cells read as ``""``.
        """
        rows: list[list[Any]] = self._sheet(sheet).to_python()
        return rows

    def _sheet(self, sheet: str | int) -> Any:
        """Check the limits for one sheet, then have python-calamine read it."""
        if self._workbook is None:
            self._workbook = self._open_workbook()
        name = self._sheet_name(sheet)
        if name is None:
            raise self._sheet_not_found(sheet)
        self._check_sheet(name)
        try:
            return self._workbook.get_sheet_by_name(name)
        except Exception as exc:  # noqa: BLE001 - calamine raises many unrelated types
            raise self._read_error(exc, name) from None

    def _sheet_name(self, sheet: str | int) -> str | None:
        """Return the name of the sheet at index ``sheet`` or named ``sheet``.

        Excel treats sheet names that differ only in case as the same name,
        so a name without an exact match matches the one sheet whose name
        equals it ignoring case.
        """
        names = self.sheet_names
        if isinstance(sheet, int):
            return names[sheet] if 0 <= sheet < len(names) else None
        if sheet in names:
            return sheet
        folded = sheet.casefold()
        matches = [name for name in names if name.casefold() == folded]
        return matches[0] if len(matches) == 1 else None

    def _sheet_not_found(self, sheet: str | int) -> SheetNotFoundError:
        names = ", ".join(repr(name) for name in self.sheet_names)
        if isinstance(sheet, int):
            what = f"no sheet at index {sheet}"
        else:
            what = f"no sheet named {sheet!r}"
        return SheetNotFoundError(
            f"{self.path}: the workbook has {what}; its sheets are {names}",
            path=self.path,
            format=self.format,
            hint="Name one of the listed sheets.",
        )

    def iter_rows(self, sheet: str | int = 0) -> Iterator[list[Any]]:
        """Yield the used range of one sheet row by row, as Python values.

        python-calamine holds the sheet's cells (bounded by the workbook
        limits); each row becomes Python objects only when it is reached.
        """
        found = self._sheet(sheet)
        try:
            yield from found.iter_rows()
        except Exception as exc:  # noqa: BLE001 - calamine raises many unrelated types
            raise self._read_error(exc, found.name) from None

    def close(self) -> None:
        """Close the workbook; a later :meth:`rows` call opens it again."""
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

    def _describe(self) -> dict[str, Any]:
        return {
            "sheet_names": list(self.sheet_names),
            "sheets": self._sheets,
            "date_system": "1904" if self._facts.date1904 else "1900",
            "macros": self._facts.has_macros,
        }


class XlsmFile(XlsxFile):
    """A macro-enabled workbook; the macros are reported, never run."""

    __slots__ = ()

    format = "xlsm"
    extensions = (".xlsm",)


def _enum_name(value: Any) -> str:
    # calamine's enums print as "SheetTypeEnum.WorkSheet" and have no .name.
    return str(value).rsplit(".", 1)[-1].lower()


def _range_name(item: Any) -> str:
    (top, left), (bottom, right) = item
    return f"{_cell_name(top, left)}:{_cell_name(bottom, right)}"


def _cell_name(row: int, column: int) -> str:
    letters = ""
    number = column + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return f"{letters}{row + 1}"
