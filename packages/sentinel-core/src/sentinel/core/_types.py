"""Declarations that plugins return from hooks: types, commands, config sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Kinds of types that plugins register. A third-party plugin may add its own kind;
# these are the ones the bundled plugins look up.
FILE_FORMAT = "file.format"
QUEUE_TASK = "queue.task"
LOG_HANDLER = "log.handler"
BOX_CLIENT = "box.client"
WEB_ROUTES = "web.routes"
HEALTH_CHECK = "health.check"


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """A named type of some kind, given as an ``"module:attribute"`` import target.

    The target is imported only when the type is first used, so listing
    plugins imports no plugin code.
    """

    kind: str
    name: str
    target: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A top-level CLI command, given as an import target of a click command."""

    name: str
    target: str
    help: str = ""


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a config section: its type, default, and whether it is a secret.

    ``type`` is one of ``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``
    or ``"section"`` (a nested mapping described by ``fields``), or a tuple of
    those types for a value that may take either, such as ``(bool, list)``
    (declared as ``type = ["bool", "list"]``). ``nullable``
    allows ``null`` in addition to the type. ``minimum`` and ``maximum`` bound
    a number (inclusive). A float must be finite unless ``allow_nonfinite``
    accepts ``.nan`` and ``.inf``. ``schemes`` lists the URL schemes a string
    must start with, as in ``redis://``. A list of mappings validates each
    item against ``fields``.
    """

    type: Any
    default: Any = None
    help: str = ""
    secret: bool = False
    nullable: bool = False
    choices: tuple[Any, ...] = ()
    fields: dict[str, Field] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    schemes: tuple[str, ...] = ()
    allow_nonfinite: bool = False


@dataclass(frozen=True, slots=True)
class ConfigSection:
    """The schema and defaults of one top-level config section."""

    name: str
    fields: dict[str, Field]
    help: str = ""

    def defaults(self) -> dict[str, Any]:
        """Build the section's default values from its fields."""
        return _field_defaults(self.fields)


def _field_defaults(fields: dict[str, Field]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, spec in fields.items():
        if spec.type == "section":
            values[key] = _field_defaults(spec.fields)
        elif isinstance(spec.default, (list, dict)):
            # Copy mutable defaults so one config never edits another's.
            values[key] = type(spec.default)(spec.default)
        else:
            values[key] = spec.default
    return values
