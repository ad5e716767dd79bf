"""Bound a worksheet's grid from its XML in one pass, in C."""

class SheetScanner:
    """Bounds of a worksheet's grid, from its XML fed in chunks."""

    def feed(self, chunk: bytes | bytearray | memoryview, /) -> None:
        """Scan the next chunk of the sheet XML."""

    def bounds(self) -> tuple[int, int, bool]:
        """Return (rows, columns, unsure) for the XML scanned so far."""
