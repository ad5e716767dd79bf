"""Structured warnings and errors that file classes report about a file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

WARNING = "warning"
ERROR = "error"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about a file, with where it applies and what to do.

    ``row`` and ``column`` are 1-based; ``row`` counts records for tables
    (the header is row 0 when there is one) and lines for text formats.
    """

    code: str
    message: str
    severity: str = WARNING
    sheet: str | None = None
    row: int | None = None
    column: int | None = None
    hint: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the issue as a dict without its unset location fields."""
        return {key: value for key, value in asdict(self).items() if value is not None}
