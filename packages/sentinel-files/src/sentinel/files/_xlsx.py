"""XLSX and XLSM workbooks read with python-calamine."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from sentinel.files._base import DataFile
from sentinel.files._errors import EncryptedFileError, InvalidFileError
from sentinel.files._ooxml import PackageFacts, read_package_facts

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
    """

    __slots__ = ("_facts", "_sheets", "_workbook", "sheet_names")

    format = "xlsx"
    extensions = (".xlsx",)

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.sheet_names: list[str] = []
        self._sheets: list[dict[str, Any]] = []
        self._facts = PackageFacts()
        self._workbook: Any = None

    def _parse(self) -> None:
        self._check_magic()
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
            raise InvalidFileError(
                f"{self.path}: the workbook cannot be read: {exc}",
                code="corrupt",
                hint="Open and save the workbook again in a spreadsheet program.",
            ) from None

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
        try:
            sheet = workbook.get_sheet_by_name(meta.name)
        except Exception as exc:  # noqa: BLE001 - calamine raises many unrelated types
            self.warn(
                "sheet-unreadable",
                f"sheet {meta.name!r} cannot be read: {exc}",
                sheet=meta.name,
            )
            return info
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

        Dates honour the workbook's date system; error cells read as ``""``.
        """
        if self._workbook is None:
            self._workbook = self._open_workbook()
        if isinstance(sheet, int):
            found = self._workbook.get_sheet_by_index(sheet)
        else:
            found = self._workbook.get_sheet_by_name(sheet)
        rows: list[list[Any]] = found.to_python()
        return rows

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
