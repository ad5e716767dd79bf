"""Plugin declaration files: types, commands and config schemas as TOML data.

A plugin whose module is ``package.plugin`` ships ``package/plugin.toml``
next to it (a single-module plugin ``name`` ships ``name.toml``). The host
reads that file instead of importing the plugin, so listing plugins, ``--help``
and config validation run no plugin code. The file is the one place the plugin
states what it provides::

    api = ">=1.0,<2"

    [[types]]
    kind = "queue.task"
    name = "hello.greet"
    target = "sentinel_hello.tasks:greet"
    description = "Say hello."

    [[commands]]
    name = "hello"
    target = "sentinel_hello.cli:group"
    help = "Greet people."

    [config.hello]
    help = "Settings of the hello plugin."
    [config.hello.fields.greeting]
    type = "str"
    default = "Hello"
    help = "Words before the name."
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentinel.core._errors import PluginError
from sentinel.core._types import CommandSpec, ConfigSection, Field, TypeSpec
from sentinel.core._version import check_range

DECLARATION_SUFFIX = ".toml"

FIELD_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
    "section": "section",
}
TYPE_NAMES = {value: key for key, value in FIELD_TYPES.items()}

_TOP_KEYS = {"api", "types", "commands", "config"}
_FIELD_KEYS = {
    "type",
    "default",
    "help",
    "secret",
    "nullable",
    "choices",
    "fields",
    "minimum",
    "maximum",
    "schemes",
    "allow_nonfinite",
}


@dataclass(frozen=True, slots=True)
class Declarations:
    """The API range, types, commands and config sections of one plugin, as data."""

    api: str | None = None
    types: tuple[TypeSpec, ...] = ()
    commands: tuple[CommandSpec, ...] = ()
    sections: tuple[ConfigSection, ...] = ()
    source: str | None = None

    def section(self, name: str) -> ConfigSection:
        """Return the declared config section called ``name``."""
        for section in self.sections:
            if section.name == name:
                return section
        known = ", ".join(section.name for section in self.sections) or "none"
        raise PluginError(
            f"{self.source}: declares no config section {name!r} (declared: {known})"
        )


def declaration_relpath(module: str) -> str:
    """Return the declaration file of ``module``, relative to a ``sys.path`` entry."""
    return module.replace(".", "/") + DECLARATION_SUFFIX


def read_declarations(path: Path) -> dict[str, Any]:
    """Read a declaration file into plain data, ready for a JSON cache."""
    import tomllib

    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise PluginError(f"declaration file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise PluginError(f"declaration file {path} cannot be read: {exc}") from None
    parse_declarations(data, str(path))
    return data


def parse_declarations(data: dict[str, Any], source: str) -> Declarations:
    """Check and convert the data of a declaration file; raise on any mistake."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise PluginError(
            f"{source}: unknown top-level keys {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_TOP_KEYS))})"
        )
    api = data.get("api")
    if api is not None:
        if not isinstance(api, str):
            raise PluginError(f"{source}: 'api' must be a version range string")
        try:
            check_range(api)
        except PluginError as exc:
            raise PluginError(f"{source}: {exc}") from None
    types = tuple(
        TypeSpec(
            _text(item, "kind", source),
            _text(item, "name", source),
            _target(item, source),
            str(item.get("description", "")),
        )
        for item in _tables(data, "types", source)
    )
    commands = tuple(
        CommandSpec(
            _text(item, "name", source),
            _target(item, source),
            str(item.get("help", "")),
        )
        for item in _tables(data, "commands", source)
    )
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise PluginError(f"{source}: 'config' must be a table of sections")
    sections = tuple(
        _section(name, body, source) for name, body in sorted(config.items())
    )
    return Declarations(api, types, commands, sections, source)


def _tables(data: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise PluginError(f"{source}: '{key}' must be an array of tables ([[{key}]])")
    return items


def _text(item: dict[str, Any], key: str, source: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise PluginError(f"{source}: every entry needs a non-empty string {key!r}")
    return value


def _target(item: dict[str, Any], source: str) -> str:
    target = _text(item, "target", source)
    module, sep, attribute = target.partition(":")
    if not sep or not module or not attribute:
        raise PluginError(
            f"{source}: target {target!r} must be 'package.module:attribute'"
        )
    return target


def _section(name: str, body: Any, source: str) -> ConfigSection:
    if not isinstance(body, dict):
        raise PluginError(f"{source}: config section {name!r} must be a table")
    fields = body.get("fields", {})
    return ConfigSection(
        name,
        _fields(fields, f"{source}: config section {name!r}"),
        str(body.get("help", "")),
    )


def _fields(fields: Any, where: str) -> dict[str, Field]:
    if not isinstance(fields, dict):
        raise PluginError(f"{where}: 'fields' must be a table of fields")
    return {
        key: _field(value, f"{where}, field {key!r}") for key, value in fields.items()
    }


def _field_type(type_name: Any, where: str) -> Any:
    """Map a declared type name, or a list of names for a union, to its type."""
    names = type_name if isinstance(type_name, list) else [type_name]
    for name in names:
        if name not in FIELD_TYPES or (name == "section" and len(names) > 1):
            raise PluginError(
                f"{where}: type {name!r} is not one of {', '.join(FIELD_TYPES)} "
                f"(a list of types may not include 'section')"
            )
    if len(names) == 1:
        return FIELD_TYPES[names[0]]
    return tuple(FIELD_TYPES[name] for name in names)


def _field(body: Any, where: str) -> Field:
    if not isinstance(body, dict):
        raise PluginError(f"{where}: must be a table with at least 'type'")
    unknown = sorted(set(body) - _FIELD_KEYS)
    if unknown:
        raise PluginError(
            f"{where}: unknown keys {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_FIELD_KEYS))})"
        )
    # TOML has no null: an absent default means null.
    return Field(
        _field_type(body.get("type"), where),
        body.get("default"),
        str(body.get("help", "")),
        secret=bool(body.get("secret", False)),
        nullable=bool(body.get("nullable", False)),
        choices=tuple(body.get("choices", ())),
        fields=_fields(body.get("fields", {}), where),
        minimum=body.get("minimum"),
        maximum=body.get("maximum"),
        schemes=tuple(body.get("schemes", ())),
        allow_nonfinite=bool(body.get("allow_nonfinite", False)),
    )
