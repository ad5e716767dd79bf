"""Registries of plugin-provided types by kind, imported on first use."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sentinel.core._errors import UnknownTypeError
from sentinel.core._imports import import_target
from sentinel.core._ownership import name_owner
from sentinel.core._types import TypeSpec


@dataclass(frozen=True, slots=True)
class Registration:
    """A type declaration together with the id of the plugin that made it."""

    spec: TypeSpec
    plugin: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two or more plugins that declared the same kind and name."""

    kind: str
    name: str
    plugins: tuple[str, ...]
    chosen: str


class TypeRegistry:
    """Map (kind, name) to import targets and import each one once, when used.

    When several plugins declare one kind and name, the one listed in
    ``prefer`` wins, then the plugin that owns the name (see
    :func:`name_owner`), then the first plugin in id order. The conflict is
    recorded, never silently resolved by install order.
    """

    def __init__(self, prefer: dict[str, str] | None = None) -> None:
        self._entries: dict[tuple[str, str], list[Registration]] = {}
        self._loaded: dict[tuple[str, str], Any] = {}
        self._prefer = prefer or {}
        self._lock = threading.Lock()

    def add(self, spec: TypeSpec, plugin: str) -> None:
        """Record ``spec`` as declared by ``plugin``."""
        self._entries.setdefault((spec.kind, spec.name), []).append(
            Registration(spec, plugin)
        )

    def extend(self, specs: Iterable[TypeSpec], plugin: str) -> None:
        """Record several declarations of one plugin."""
        for spec in specs:
            self.add(spec, plugin)

    def kinds(self) -> list[str]:
        """Return the kinds that have at least one type, sorted."""
        return sorted({kind for kind, _ in self._entries})

    def names(self, kind: str) -> list[str]:
        """Return the type names registered for ``kind``, sorted."""
        return sorted(name for k, name in self._entries if k == kind)

    def registration(self, kind: str, name: str) -> Registration:
        """Return the winning registration of ``kind`` and ``name``."""
        candidates = self._entries.get((kind, name))
        if not candidates:
            known = ", ".join(self.names(kind)) or "none"
            raise UnknownTypeError(
                f"no plugin provides a {kind} type named {name!r} (known: {known}); "
                f"install or enable the plugin that provides it"
            )
        key = f"{kind}:{name}"
        preferred = self._prefer.get(key)
        owner = name_owner(key, (candidate.plugin for candidate in candidates))
        for chosen in (preferred, owner):
            for candidate in candidates:
                if candidate.plugin == chosen:
                    return candidate
        return min(candidates, key=lambda candidate: candidate.plugin)

    def get(self, kind: str, name: str) -> Any:
        """Import and return the type registered as ``kind`` and ``name``."""
        key = (kind, name)
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = import_target(
                    self.registration(kind, name).spec.target
                )
            return self._loaded[key]

    def all(self, kind: str) -> dict[str, Any]:
        """Import and return every type of ``kind``, by name."""
        return {name: self.get(kind, name) for name in self.names(kind)}

    def conflicts(self) -> list[Conflict]:
        """List every kind and name that more than one plugin declared."""
        found = []
        for (kind, name), candidates in sorted(self._entries.items()):
            plugins = tuple(sorted({candidate.plugin for candidate in candidates}))
            if len(plugins) > 1:
                chosen = self.registration(kind, name).plugin
                found.append(Conflict(kind, name, plugins, chosen))
        return found
