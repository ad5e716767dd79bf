"""Write minimal workbooks with a generated sheet, for the cell-bomb tests."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

NS = "http://schemas.openxmlformats.org"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<Types xmlns="{NS}/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<Relationships xmlns="{NS}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<workbook xmlns="{NS}/spreadsheetml/2006/main" '
    f'xmlns:r="{NS}/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Bomb" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<Relationships xmlns="{NS}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def write_workbook(path: Path, rows: Iterable[bytes], dimension: str) -> Path:
    """Write a one-sheet workbook whose sheetData holds the ``rows`` bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet '
                f'xmlns="{NS}/spreadsheetml/2006/main"><dimension ref="{dimension}"/>'
                f"<sheetData>".encode()
            )
            for chunk in rows:
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return path


def corner_rows() -> list[bytes]:
    """Two values, in A1 and XFD1048576: a grid of 17 billion cells."""
    return [
        b'<row r="1"><c r="A1"><v>1</v></c></row>'
        b'<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
    ]


def repeated_rows(count: int, columns: str = "A", batch: int = 1000) -> Iterable[bytes]:
    """``count`` rows with a value in each of ``columns`` and one in column XFD."""
    template = b"".join(
        b'<c r="%s%%(row)d"><v>1</v></c>' % letter.encode() for letter in columns
    )
    template = b'<row r="%(row)d">' + template + b'<c r="XFD%(row)d"><v>2</v></c></row>'
    for start in range(1, count + 1, batch):
        yield b"".join(
            template % {b"row": row}
            for row in range(start, min(start + batch, count + 1))
        )


def narrow_rows(count: int, batch: int = 1000) -> Iterable[bytes]:
    """``count`` rows of three numbers: large but an honest shape."""
    for start in range(1, count + 1, batch):
        yield b"".join(
            b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d"><v>2</v></c>'
            b'<c r="C%d"><v>3</v></c></row>' % (row, row, row, row, row)
            for row in range(start, min(start + batch, count + 1))
        )
