"""Reading options for ``load_file`` from the ``files`` config section."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sentinel.files._base import DataFile
from sentinel.files._errors import ReadingConfigError
from sentinel.files._json import NUMBER_POLICIES
from sentinel.files._limits import DEFAULT_LIMITS, WorkbookLimits

LIMIT_KEYS = ("max_cells", "max_part_bytes", "max_ratio")


def reading_options(
    section: Mapping[str, Any], classes: Mapping[str, type[DataFile]] | None = None
) -> dict[str, Any]:
    """Build ``load_file`` keyword arguments from a ``files`` config section.

    Absent keys keep the file classes' defaults. When ``classes`` is given,
    options that none of them accepts are left out, so a registry without,
    say, the JSON class still loads the other formats.
    """
    options: dict[str, Any] = {
        "numbers": _json_numbers(section.get("json_numbers")),
        "na_values": _na_values(section.get("na_values")),
        "limits": _workbook_limits(section.get("workbook_limits")),
    }
    if classes is not None:
        known = {
            name for cls in classes.values() for name in getattr(cls, "options", ())
        }
        options = {key: value for key, value in options.items() if key in known}
    return options


def _json_numbers(value: Any) -> str:
    if value is None:
        return "strict"
    if value not in NUMBER_POLICIES:
        raise ReadingConfigError(
            f"files.json_numbers {value!r} is invalid: expected one of "
            f"{', '.join(sorted(NUMBER_POLICIES))}",
            hint="Set files.json_numbers to strict (reject NaN and Infinity) "
            "or flag (accept them with a warning).",
        )
    return str(value)


def _na_values(value: Any) -> bool | tuple[str, ...]:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        markers = tuple(value)
        if all(isinstance(marker, str) for marker in markers):
            return markers
    raise ReadingConfigError(
        f"files.na_values {value!r} is invalid: expected true, false or a list "
        f"of strings",
        hint='Use true for the usual markers, a list such as na_values: ["NA", '
        '"-"], or false for none.',
    )


def _workbook_limits(value: Any) -> WorkbookLimits:
    if value is None:
        return DEFAULT_LIMITS
    if not isinstance(value, Mapping):
        raise ReadingConfigError(
            f"files.workbook_limits {value!r} is invalid: expected a mapping with "
            f"{', '.join(LIMIT_KEYS)}",
        )
    unknown = sorted(set(value) - set(LIMIT_KEYS))
    if unknown:
        raise ReadingConfigError(
            f"files.workbook_limits has unknown keys {', '.join(map(str, unknown))}, "
            f"expected only {', '.join(LIMIT_KEYS)}",
        )
    chosen: dict[str, Any] = {}
    for key in LIMIT_KEYS:
        number = value.get(key)
        if number is None:
            continue
        expected_type: type = float if key == "max_ratio" else int
        valid = isinstance(number, (int, float)) and not isinstance(number, bool)
        if expected_type is int:
            valid = valid and isinstance(number, int)
        if not valid or number < 1:
            kind = "a number" if expected_type is float else "an integer"
            raise ReadingConfigError(
                f"files.workbook_limits.{key} {number!r} is invalid: expected "
                f"{kind} of at least 1",
            )
        chosen[key] = expected_type(number)
    return WorkbookLimits(
        max_cells=chosen.get("max_cells", DEFAULT_LIMITS.max_cells),
        max_part_bytes=chosen.get("max_part_bytes", DEFAULT_LIMITS.max_part_bytes),
        max_ratio=chosen.get("max_ratio", DEFAULT_LIMITS.max_ratio),
        ratio_floor=DEFAULT_LIMITS.ratio_floor,
    )
