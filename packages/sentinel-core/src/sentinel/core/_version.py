"""The core's plugin API version and the ranges plugins declare against it."""

from __future__ import annotations

import re

from sentinel.core._errors import PluginError

# The version of the hook specs, declaration format and public API that
# plugins build against. The major part changes when a plugin built for the
# old API would break; the minor part when something is added.
CORE_API_VERSION = "1.0"

_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|~=|>|<)?\s*(\d+(?:\.\d+)*)\s*$")


def parse_version(text: str) -> tuple[int, ...]:
    """Parse a dotted version such as ``"1.2"`` into a comparable tuple."""
    try:
        parts = tuple(int(part) for part in text.strip().split("."))
    except ValueError:
        raise PluginError(
            f"invalid version {text!r}: expected numbers separated by dots"
        ) from None
    return _trimmed(parts)


def _trimmed(parts: tuple[int, ...]) -> tuple[int, ...]:
    # 1.0 and 1 are the same version.
    while len(parts) > 1 and parts[-1] == 0:
        parts = parts[:-1]
    return parts


def check_range(spec: str) -> None:
    """Raise :class:`PluginError` when ``spec`` is not a valid version range."""
    for clause in _clauses(spec):
        if not _CLAUSE.match(clause):
            raise PluginError(
                f"invalid API range {spec!r}: each comma-separated part must be an "
                f"operator (>=, <, ==, ~=, ...) and a version, such as '>=1.0,<2'"
            )


def _clauses(spec: str) -> list[str]:
    return [clause for clause in spec.split(",") if clause.strip()]


def in_range(version: str, spec: str) -> bool:
    """Tell whether ``version`` satisfies a range such as ``">=1.0,<2"``."""
    check_range(spec)
    have = parse_version(version)
    for clause in _clauses(spec):
        match = _CLAUSE.match(clause)
        assert match is not None
        operator, bound_text = match.group(1) or "==", match.group(2)
        if not _compare(have, operator, parse_version(bound_text), bound_text):
            return False
    return True


def _compare(
    have: tuple[int, ...], operator: str, bound: tuple[int, ...], bound_text: str
) -> bool:
    if operator == "~=":
        # ~=1.2 means >=1.2 and the same major version (1.*).
        prefix = parse_version(bound_text)[:-1] or bound[:1]
        return have >= bound and have[: len(prefix)] == prefix
    return {
        ">=": have >= bound,
        "<=": have <= bound,
        ">": have > bound,
        "<": have < bound,
        "==": have == bound,
        "!=": have != bound,
    }[operator]
