"""Bound a worksheet's grid from its XML in one pass, in C."""

class SheetScanner:
    """Bounds of a worksheet's grid, from its XML fed in chunks."""

    def feed(self, chunk: bytes | bytearray | memoryview, /) -> None:
        """Scan the next chunk of the sheet XML."""

    def bounds(self) -> tuple[int, int, bool]:
        """Return (rows, columns, unsure) for the XML scanned so far."""

    def value_extent(self) -> tuple[tuple[int, int] | None, bool]:
        """Return ((rows, columns) or None, unsure) of the cells with a value.

        The extent spans the first to the last row and column of the cells
        that have a v, is or f child; None means no cell has one.
        """
