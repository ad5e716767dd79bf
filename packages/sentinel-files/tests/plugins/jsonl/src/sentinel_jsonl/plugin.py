"""Declare the ``jsonl`` file format."""

from __future__ import annotations

from sentinel.core import FILE_FORMAT, TypeSpec, hookimpl


@hookimpl
def sentinel_types() -> list[TypeSpec]:
    """Register the JSON Lines file class."""
    return [
        TypeSpec(
            FILE_FORMAT, "jsonl", "sentinel_jsonl._format:JsonLinesFile", "JSON Lines"
        )
    ]
