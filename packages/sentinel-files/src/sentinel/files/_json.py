"""JSON files: byte-order marks, bounded nesting, duplicate keys, no NaN."""

from __future__ import annotations

import codecs
import json
import math
import re
from pathlib import Path
from typing import Any

from sentinel.files._base import DataFile
from sentinel.files._errors import InvalidFileError, UnsafeContentError

MAX_DEPTH = 500
MAX_KEYS_LISTED = 50
MAX_DUPLICATE_WARNINGS = 20
STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
BOM_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class JsonFile(DataFile):
    """A JSON document, parsed strictly (no NaN or Infinity) with bounded depth."""

    __slots__ = ("data", "encoding")

    format = "json"
    extensions = (".json", ".geojson", ".topojson")

    def __init__(self, path: Path) -> None:
        super().__init__(path)
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
        try:
            self.data = json.loads(
                text,
                object_pairs_hook=_pairs_hook(duplicates),
                parse_constant=_reject_constant,
                parse_float=_parse_float(self),
            )
        except _ConstantError as exc:
            raise InvalidFileError(
                f"{self.path}: {exc.args[0]} is not valid JSON",
                code="json-constant",
                hint="Write null or a number instead of NaN and Infinity.",
            ) from None
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
        keys = None
        if isinstance(self.data, dict):
            keys = [str(key) for key in list(self.data)[:MAX_KEYS_LISTED]]
        length = len(self.data) if isinstance(self.data, (dict, list)) else None
        return {
            "encoding": self.encoding,
            "documents": 1,
            "type": _json_type(self.data),
            "length": length,
            "top_level_keys": keys,
        }


class _ConstantError(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _ConstantError(name)


def _parse_float(owner: JsonFile) -> Any:
    warned: list[bool] = []

    def parse(text: str) -> float:
        value = float(text)
        if math.isinf(value) and not warned:
            warned.append(True)
            owner.warn(
                "number-overflow",
                f"number {text[:40]} is too large for a double and reads as infinity",
                hint="Send the number as a string if its exact value matters.",
            )
        return value

    return parse


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
