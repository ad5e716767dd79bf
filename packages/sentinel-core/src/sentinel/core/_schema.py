"""The JSON Schema of the merged config, built from every plugin's sections."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sentinel.core._types import ConfigSection, Field

_JSON_TYPES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
    "section": "object",
}


def config_schema(sections: Iterable[ConfigSection]) -> dict[str, Any]:
    """Return a JSON Schema (draft 2020-12) of one environment's config values.

    The config file itself holds one such mapping per environment section.
    """
    properties = {
        section.name: {
            "type": "object",
            "description": section.help,
            "properties": _properties(section.fields),
            "additionalProperties": False,
        }
        for section in sorted(sections, key=lambda section: section.name)
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sentinel configuration (one environment section)",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def _properties(fields: Mapping[str, Field]) -> dict[str, Any]:
    return {key: _field_schema(spec) for key, spec in fields.items()}


def _field_schema(spec: Field) -> dict[str, Any]:
    kinds = spec.type if isinstance(spec.type, tuple) else (spec.type,)
    json_types = [_JSON_TYPES.get(kind, "string") for kind in kinds]
    if spec.nullable:
        json_types.append("null")
    schema: dict[str, Any] = {
        "type": json_types if len(json_types) > 1 else json_types[0]
    }
    if spec.help:
        schema["description"] = spec.help
    if spec.type == "section":
        schema["properties"] = _properties(spec.fields)
        schema["additionalProperties"] = False
        return schema
    if spec.default is not None:
        schema["default"] = spec.default
    if spec.secret:
        schema["writeOnly"] = True
    if spec.choices:
        schema["enum"] = list(spec.choices)
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    if spec.schemes:
        alternatives = "|".join(re.escape(scheme) for scheme in spec.schemes)
        schema["pattern"] = f"^({alternatives})://"
    if spec.type is list and spec.fields:
        schema["items"] = {
            "type": "object",
            "properties": _properties(spec.fields),
            "additionalProperties": False,
        }
    return schema
