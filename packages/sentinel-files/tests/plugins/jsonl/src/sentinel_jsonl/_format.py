"""JSON Lines: one JSON value per line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sentinel.files import DataFile, InvalidFileError


class JsonLinesFile(DataFile):
    """A file of one JSON value per non-blank line."""

    format = "jsonl"
    extensions = (".jsonl", ".ndjson")

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.records: list[Any] = []

    @classmethod
    def sniff(cls, head: bytes) -> str | None:
        lines = [line for line in head.splitlines()[:3] if line.strip()]
        if len(lines) < 2 or not all(line.lstrip().startswith(b"{") for line in lines):
            return None
        return "each of the first lines is a JSON object"

    def _parse(self) -> None:
        with self.path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    self.records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InvalidFileError(
                        f"{self.path}: a line is not JSON: {exc.msg}",
                        code="jsonl-syntax",
                        hint="Write one JSON value per line.",
                        location={"row": number, "column": exc.colno},
                    ) from None

    def _describe(self) -> dict[str, Any]:
        return {"records": len(self.records)}
