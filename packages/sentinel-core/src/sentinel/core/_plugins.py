"""Discovery, loading and listing of plugins from the ``sentinel`` entry points."""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from sentinel.core import hookspecs
from sentinel.core._errors import PluginError
from sentinel.core._registry import TypeRegistry
from sentinel.core._types import CommandSpec, ConfigSection, TypeSpec

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "sentinel"
STRICT_ENV = "SENTINEL_STRICT"
DISABLE_ENV = "SENTINEL_DISABLE_PLUGINS"

LOADED = "loaded"
FAILED = "failed"
DISABLED = "disabled"


@dataclass(slots=True)
class PluginInfo:
    """What the host knows about one plugin, whether or not it loaded."""

    id: str
    distribution: str | None
    version: str | None
    module: str
    status: str
    hooks: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the plugin's fields as a JSON-ready dict."""
        return {
            "id": self.id,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "status": self.status,
            "hooks": list(self.hooks),
            "error": self.error,
        }


def env_flag(name: str) -> bool:
    """Read a boolean switch from the environment (1, true, yes, on)."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str) -> list[str]:
    """Read a comma-separated list from the environment."""
    return [
        item.strip() for item in os.environ.get(name, "").split(",") if item.strip()
    ]


class PluginHost:
    """Load every plugin it can and record why any other one was skipped.

    A plugin that fails to import, or implements a hook that no spec defines,
    is unregistered and listed as failed while the rest keep working. With
    ``strict`` set, the first such failure raises :class:`PluginError`.
    """

    def __init__(
        self,
        *,
        strict: bool = False,
        disabled: Iterable[str] = (),
        prefer: dict[str, str] | None = None,
    ) -> None:
        self.strict = strict
        self.disabled = set(disabled)
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: list[PluginInfo] = []
        self.registry = TypeRegistry(prefer)
        self._prefer = prefer or {}

    def load_entry_points(self) -> None:
        """Discover and register plugins from installed distributions."""
        seen: set[tuple[str, str]] = set()
        entry_points = sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
            key=lambda ep: (ep.name, ep.value),
        )
        for ep in entry_points:
            distribution = ep.dist.name if ep.dist else None
            # A distribution found twice on sys.path yields the same entry point twice.
            if (ep.name, ep.value) in seen:
                continue
            seen.add((ep.name, ep.value))
            info = PluginInfo(
                id=ep.name,
                distribution=distribution,
                version=ep.dist.version if ep.dist else None,
                module=ep.value,
                status=LOADED,
            )
            self._load(info, ep.load)
        self._collect_types()

    def register_module(self, plugin_id: str, module: Any) -> PluginInfo:
        """Register an already imported plugin object (used by tests and embedders)."""
        info = PluginInfo(
            id=plugin_id,
            distribution=None,
            version=None,
            module=getattr(module, "__name__", repr(module)),
            status=LOADED,
        )
        self._load(info, lambda: module)
        self._collect_types()
        return info

    def _load(self, info: PluginInfo, load: Callable[[], Any]) -> None:
        self.plugins.append(info)
        if info.id in self.disabled:
            info.status = DISABLED
            return
        if self.pm.has_plugin(info.id):
            self._fail(
                info, f"plugin id {info.id!r} is already used by another distribution"
            )
            return
        try:
            module = load()
        except Exception as exc:  # noqa: BLE001 - any import error must not stop the host
            self._fail(info, f"import failed: {type(exc).__name__}: {exc}")
            return
        try:
            self.pm.register(module, name=info.id)
        except pluggy.PluginValidationError as exc:
            self._fail(info, f"invalid hook implementation: {exc}")
            return
        unknown = self._unknown_hooks(module)
        if unknown:
            self.pm.unregister(module)
            names = ", ".join(unknown)
            self._fail(info, f"implements hooks that no spec defines: {names}")
            return
        info.hooks = sorted(
            caller.name for caller in self.pm.get_hookcallers(module) or []
        )

    def _unknown_hooks(self, module: Any) -> list[str]:
        return sorted(
            caller.name
            for caller in self.pm.get_hookcallers(module) or []
            if not caller.has_spec()
        )

    def _fail(self, info: PluginInfo, error: str) -> None:
        info.status = FAILED
        info.error = error
        where = info.distribution or info.module
        logger.warning("plugin %s (%s) skipped: %s", info.id, where, error)
        if self.strict:
            raise PluginError(
                f"plugin {info.id!r} from {where} failed to load: {error}"
                f" (strict mode is on; unset --strict/{STRICT_ENV} to skip it)"
            )

    def _collect_types(self) -> None:
        self.registry = TypeRegistry(self._prefer)
        for plugin_id, specs in self.call_each("sentinel_types"):
            self.registry.extend(_typed(specs, TypeSpec), plugin_id)

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call one hook on every plugin separately, in plugin id order.

        A plugin whose hook raises is marked failed and left out, so one
        broken plugin cannot hide the others' results.
        """
        caller = getattr(self.pm.hook, hook_name)
        results = []
        impls = sorted(caller.get_hookimpls(), key=lambda impl: impl.plugin_name)
        for impl in impls:
            try:
                result = impl.function(**kwargs)
            except Exception as exc:  # noqa: BLE001 - isolate one plugin's failure
                info = self.info(impl.plugin_name)
                self.pm.unregister(name=impl.plugin_name)
                if info is not None:
                    self._fail(
                        info, f"hook {hook_name} raised {type(exc).__name__}: {exc}"
                    )
                continue
            results.append((impl.plugin_name, result))
        return results

    def info(self, plugin_id: str) -> PluginInfo | None:
        """Return the record of ``plugin_id``, if such a plugin was found."""
        for info in self.plugins:
            if info.id == plugin_id:
                return info
        return None

    def commands(self) -> dict[str, tuple[CommandSpec, str]]:
        """Return CLI commands by name with the plugin that declared each."""
        found: dict[str, tuple[CommandSpec, str]] = {}
        for plugin_id, specs in self.call_each("sentinel_commands"):
            for spec in _typed(specs, CommandSpec):
                if spec.name in found:
                    other = found[spec.name][1]
                    preferred = self._prefer.get(f"command:{spec.name}")
                    logger.warning(
                        "command %r is declared by plugins %s and %s; using %s",
                        spec.name,
                        other,
                        plugin_id,
                        preferred or other,
                    )
                    if preferred != plugin_id:
                        continue
                found[spec.name] = (spec, plugin_id)
        return found

    def config_sections(self) -> list[ConfigSection]:
        """Return every config section that loaded plugins contribute."""
        sections = []
        for _plugin_id, specs in self.call_each("sentinel_config_sections"):
            sections.extend(_typed(specs, ConfigSection))
        return sections

    def failures(self) -> list[PluginInfo]:
        """Return the plugins that failed to load."""
        return [info for info in self.plugins if info.status == FAILED]


def _typed(values: Any, kind: type[Any]) -> list[Any]:
    if not isinstance(values, (list, tuple)):
        raise PluginError(f"expected a list of {kind.__name__}, got {values!r}")
    for value in values:
        if not isinstance(value, kind):
            raise PluginError(f"expected a {kind.__name__}, got {value!r}")
    return list(values)
