"""JSON files: byte-order marks, bounded nesting, duplicate keys, number policy."""

from __future__ import annotations

import codecs
import json
import math
import re
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from sentinel.files._base import DataFile, describe_keys
from sentinel.files._errors import InvalidFileError, UnsafeContentError

MAX_DEPTH = 500
MAX_DUPLICATE_WARNINGS = 20
STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
# Strings are matched first so that "NaN" inside a string is skipped; the
# second group is a number with a fraction or exponent, the only kind that
# the json module turns into a float that may overflow.
NUMBER_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)|(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)',
    re.DOTALL,
)
STRICT = "strict"
FLAG = "flag"
NUMBER_POLICIES = (STRICT, FLAG)
MAX_NUMBER_WARNINGS = 20
# The hint sentence on accepting NaN, Infinity and overflowing numbers, with
# the config key for CLI users and the argument for Python callers.
FLAG_ADVICE = (
    "To accept them with a warning, set files.json_numbers to flag in the "
    'config, or pass numbers="flag" to JsonFile.load or load_file.'
)
BOM_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class JsonFile(DataFile):
    """A JSON document with bounded depth and a policy for non-standard numbers.

    ``numbers="strict"`` (the default) rejects ``NaN``, ``Infinity`` and
    ``-Infinity``, which are not JSON, and numbers too large for a double
    that would read as infinity. ``numbers="flag"`` accepts them as
    ``float`` values and records a warning with the line and column of each.
    """

    __slots__ = ("data", "encoding", "numbers")

    format = "json"
    extensions = (".json", ".geojson", ".topojson")
    options = ("numbers",)

    def __init__(self, path: Path, *, numbers: str = STRICT) -> None:
        super().__init__(path)
        if numbers not in NUMBER_POLICIES:
            raise ValueError(
                f"numbers={numbers!r} is not a policy; expected one of "
                f"{', '.join(map(repr, NUMBER_POLICIES))}"
            )
        self.numbers = numbers
        self.data: Any = None
        self.encoding = "utf-8"

    def _parse(self) -> None:
        text = self._decode(self.path.read_bytes())
        if not text.strip():
            raise InvalidFileError(
                f"{self.path}: no JSON value; the file holds only a byte-order "
                f"mark or white space",
                code="json-syntax",
                hint="Check that the writer finished and re-send the file.",
            )
        _check_depth(self.path, text)
        duplicates: list[str] = []
        found: list[str] = []
        try:
            self.data = self._loads(text, duplicates, found)
        except _NumberError as exc:
            raise self._number_error(text, exc.args[0]) from None
        except json.JSONDecodeError as exc:
            raise InvalidFileError(
                f"{self.path}: invalid JSON: {exc.msg}",
                code="json-syntax",
                hint=_syntax_hint(exc),
                location={"row": exc.lineno, "column": exc.colno},
            ) from None
        except RecursionError:
            raise UnsafeContentError(
                f"{self.path}: nesting too deep to parse", code="nesting-depth"
            ) from None
        self._warn_duplicates(duplicates)
        if found:
            self._warn_numbers(text)

    def _loads(self, text: str, duplicates: list[str], found: list[str]) -> Any:
        """Parse ``text``, recording duplicate keys and non-standard numbers."""
        strict = self.numbers == STRICT
        options: dict[str, Any] = {
            "object_pairs_hook": _pairs_hook(duplicates),
            "parse_constant": _constant(strict, found),
            "parse_float": _parse_float(strict, found),
        }
        try:
            return json.loads(text, **options)
        except (json.JSONDecodeError, _NumberError):
            raise
        except ValueError:
            # int() rejects an integer of more digits than
            # sys.get_int_max_str_digits() allows (4300 by default in
            # Python 3.11). Parsing ints in Python only after that keeps the
            # usual files on the json module's C path for ints.
            huge = next(_huge_integers(text), None)
            if huge is None:
                raise
            if strict:
                raise _NumberError(huge) from None
        duplicates.clear()
        found.clear()
        return json.loads(text, parse_int=_parse_int(found), **options)

    def _number_error(self, text: str, token: str) -> InvalidFileError:
        line, column = next(
            ((line, column) for found, line, column in _non_standard(text)),
            (None, None),
        )
        location = {"row": line, "column": column} if line else {}
        if token.lstrip("-") in {"NaN", "Infinity"}:
            return InvalidFileError(
                f"{self.path}: {token} is not valid JSON",
                code="json-constant",
                hint="Write null or a number instead of NaN and Infinity. "
                + FLAG_ADVICE,
                location=location,
            )
        if _has_too_many_digits(token):
            return InvalidFileError(
                f"{self.path}: integer {token[:40]}... has {_digits(token)} "
                f"digits, more than the {sys.get_int_max_str_digits()} that "
                f"Python converts to int",
                code="number-overflow",
                hint="Send the number as a string. Accepted with a warning, it "
                "reads as infinity. " + FLAG_ADVICE,
                location=location,
            )
        return InvalidFileError(
            f"{self.path}: number {token[:40]} is too large for a double and "
            f"would read as infinity",
            code="number-overflow",
            hint="Send the number as a string if its exact value matters. "
            + FLAG_ADVICE,
            location=location,
        )

    def _warn_numbers(self, text: str) -> None:
        located = list(islice(_non_standard(text), MAX_NUMBER_WARNINGS + 1))
        for token, line, column in located[:MAX_NUMBER_WARNINGS]:
            if token.lstrip("-") in {"NaN", "Infinity"}:
                code, what = "json-constant", f"{token} is not standard JSON"
                reads = token.replace("Infinity", "inf").replace("NaN", "nan")
            else:
                code = "number-overflow"
                what = f"number {token[:40]} is too large for a double"
                if _has_too_many_digits(token):
                    what = f"integer {token[:40]}... of {_digits(token)} digits"
                    what += " is too large for Python's int conversion"
                reads = "-inf" if token.startswith("-") else "inf"
            self.warn(
                code,
                f"{what}; it reads as {reads} (line {line}, column {column})",
                hint="Write null or a finite number if other tools read the file.",
                row=line,
                column=column,
            )
        if len(located) > MAX_NUMBER_WARNINGS:
            self.warn(
                "non-standard-numbers",
                f"more than {MAX_NUMBER_WARNINGS} non-standard numbers; only the "
                f"first {MAX_NUMBER_WARNINGS} are listed",
            )

    def _decode(self, data: bytes) -> str:
        for mark, encoding in BOM_ENCODINGS:
            if data.startswith(mark):
                self.encoding = encoding
                break
        else:
            # RFC 8259 text without a mark: the zero bytes of the first
            # characters tell UTF-16 and UTF-32 apart from UTF-8.
            self.encoding = json.detect_encoding(data)
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise InvalidFileError(
                f"{self.path}: bytes at offset {exc.start} are not valid "
                f"{self.encoding}",
                code="encoding",
                hint="Save the file as UTF-8.",
            ) from None

    def _warn_duplicates(self, duplicates: list[str]) -> None:
        for key in duplicates[:MAX_DUPLICATE_WARNINGS]:
            self.warn(
                "duplicate-key",
                f"key {key!r} appears more than once in an object; the last "
                f"value is used",
                hint="Remove the duplicate key.",
            )
        if len(duplicates) > MAX_DUPLICATE_WARNINGS:
            self.warn(
                "duplicate-keys",
                f"{len(duplicates)} duplicate keys in all; only the first "
                f"{MAX_DUPLICATE_WARNINGS} are listed",
            )

    def _describe(self) -> dict[str, Any]:
        length = len(self.data) if isinstance(self.data, (dict, list)) else None
        return {
            "encoding": self.encoding,
            "documents": 1,
            "type": _json_type(self.data),
            "length": length,
            **describe_keys(self.data),
        }


class _NumberError(ValueError):
    """A number that the strict policy refuses; the argument is its text."""


def _constant(strict: bool, found: list[str]) -> Any:
    def parse(name: str) -> float:
        if strict:
            raise _NumberError(name)
        found.append(name)
        return float(name)

    return parse


def _parse_float(strict: bool, found: list[str]) -> Any:
    def parse(text: str) -> float:
        value = float(text)
        if math.isinf(value):
            if strict:
                raise _NumberError(text)
            found.append(text)
        return value

    return parse


def _parse_int(found: list[str]) -> Any:
    def parse(text: str) -> int | float:
        if _has_too_many_digits(text):
            found.append(text)
            return float(text)
        return int(text)

    return parse


def _digits(number: str) -> int:
    return len(number) - number.startswith("-")


def _has_too_many_digits(number: str) -> bool:
    """Tell whether int() rejects ``number`` for its count of digits."""
    limit = sys.get_int_max_str_digits()
    return limit > 0 and number.lstrip("-").isdigit() and _digits(number) > limit


def _huge_integers(text: str) -> Iterator[str]:
    """Yield the integers of ``text`` that int() rejects for their length."""
    for match in NUMBER_TOKEN.finditer(text):
        number = match.group(2)
        if number is not None and _has_too_many_digits(number):
            yield number


def _non_standard(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield each NaN, Infinity or overflowing number with its line and column.

    Runs only when the parser met one, so the scan's cost is paid by those
    files alone. Lines and columns are 1-based.
    """
    line, line_start, counted = 1, 0, 0
    for match in NUMBER_TOKEN.finditer(text):
        constant, number = match.groups()
        if constant is None and (number is None or not _overflows(number)):
            continue
        start = match.start()
        line += text.count("\n", counted, start)
        counted = start
        line_start = text.rfind("\n", 0, start) + 1
        yield constant or number, line, start - line_start + 1


def _overflows(number: str) -> bool:
    if "." not in number and "e" not in number.lower():
        # An integer reads as an int unless it has too many digits for int().
        return _has_too_many_digits(number)
    return math.isinf(float(number))


def _pairs_hook(duplicates: list[str]) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _value in pairs:
                if key in seen:
                    duplicates.append(key)
                seen.add(key)
        return result

    return hook


def _check_depth(path: Path, text: str) -> None:
    # Strings are removed first so brackets inside them do not count; the
    # scan runs in C-implemented regex and str methods, not a Python loop.
    bare = STRING.sub("", text)
    depth = 0
    deepest = 0
    for match in re.finditer(r"[\[{]+|[\]}]+", bare):
        run = match.group()
        if run[0] in "[{":
            depth += len(run)
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                raise UnsafeContentError(
                    f"{path}: arrays and objects nest deeper than {MAX_DEPTH} "
                    f"levels; the document is rejected",
                    code="nesting-depth",
                    hint="Flatten the structure.",
                )
        else:
            depth -= len(run)


def _syntax_hint(exc: json.JSONDecodeError) -> str:
    if exc.msg == "Extra data":
        return "The file holds more than one JSON value; JSON Lines is not supported."
    return "Fix the JSON at the reported line and column."


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "number")
