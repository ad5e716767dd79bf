"""The plugin host: statuses, declarations, lazy imports and conflicts of plugins."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sentinel.core._discovery import (
    ENTRY_POINT_GROUP,
    Candidate,
    ScanResult,
    locate_declarations,
    scan,
)
from sentinel.core._errors import PluginError
from sentinel.core._manifest import (
    Declarations,
    parse_declarations,
    read_declarations,
)
from sentinel.core._names import ALLOW_ENV, DISABLE_ENV, STRICT_ENV, TRACE_ENV
from sentinel.core._ownership import CORE_PLUGIN, name_owner
from sentinel.core._registry import TypeRegistry
from sentinel.core._types import CommandSpec, ConfigSection, TypeSpec
from sentinel.core._version import CORE_API_VERSION, in_range

if TYPE_CHECKING:
    import pluggy

logger = logging.getLogger(__name__)

__all__ = [
    "ALLOW_ENV",
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "STRICT_ENV",
    "TRACE_ENV",
    "PluginHost",
    "PluginInfo",
]

LOADED = "loaded"
FAILED = "failed"
DISABLED = "disabled"
INCOMPATIBLE = "incompatible"
CONFLICT = "conflict"
STATUSES = (LOADED, FAILED, DISABLED, INCOMPATIBLE, CONFLICT)

DECLARATION_HOOKS = ("sentinel_types", "sentinel_commands", "sentinel_config_sections")

_warned: set[str] = set()


def warn_once(message: str, *args: Any) -> None:
    """Log a warning once per process, however often the plugins are loaded."""
    text = message % args if args else message
    if text not in _warned:
        _warned.add(text)
        logger.warning("%s", text)


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
    api: str | None = None
    declared: bool = False
    imported: bool = False
    import_seconds: float | None = None
    declaration_path: str | None = None
    notes: list[str] = field(default_factory=list)
    provides: dict[str, list[str]] = field(default_factory=dict)
    # Set when another distribution uses the same id: this one never loads.
    shadowed_by: str | None = None

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
            "api": self.api,
            "declared": self.declared,
            "imported": self.imported,
            "import_seconds": self.import_seconds,
            "provides": {key: list(value) for key, value in self.provides.items()},
        }


@dataclass(frozen=True, slots=True)
class Conflict:
    """Plugins that claim the same command, config section or type name."""

    key: str
    plugins: tuple[str, ...]
    chosen: str
    by_config: bool
    # Set when the chosen plugin owns the name (see name_owner).
    by_owner: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return the conflict as a JSON-ready dict."""
        return {
            "key": self.key,
            "plugins": list(self.plugins),
            "chosen": self.chosen,
            "by_config": self.by_config,
            "by_owner": self.by_owner,
        }


def env_flag(name: str) -> bool:
    """Read a boolean switch from the environment (1, true, yes, on)."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, environ: Any = None) -> list[str]:
    """Read a comma-separated list from the environment."""
    environ = os.environ if environ is None else environ
    return [item.strip() for item in environ.get(name, "").split(",") if item.strip()]


class PluginHost:
    """Load every plugin it can and record why any other one was skipped.

    A plugin with a declaration file is listed, and its types, commands and
    config sections are known, without importing it; its module is imported
    the first time a hook is called (:attr:`pm`). A plugin without one is
    imported at once so its declaration hooks can run. An import that raises
    (even ``SystemExit``), an invalid or unknown hook, or an API range that
    excludes this core marks that plugin and leaves the rest working; with
    ``strict`` the first such problem raises :class:`PluginError`.
    """

    def __init__(
        self,
        *,
        strict: bool = False,
        disabled: Iterable[str] = (),
        only: Iterable[str] | None = None,
        prefer: dict[str, str] | None = None,
        trace: bool = False,
    ) -> None:
        self.strict = strict
        self.disabled = set(disabled)
        self.only = set(only) if only is not None else None
        self.trace = trace
        self._manager: pluggy.PluginManager | None = None
        self.plugins: list[PluginInfo] = []
        self._prefer = dict(prefer or {})
        self.registry = TypeRegistry(self._prefer)
        self.conflicts: list[Conflict] = []
        self.scan: ScanResult | None = None
        self._declarations: dict[str, Declarations] = {}
        self._pending: dict[str, Callable[[], Any]] = {}
        self._commands: dict[str, tuple[CommandSpec, str]] = {}
        self._sections: list[ConfigSection] = []

    # -- loading -----------------------------------------------------------

    def load_entry_points(self, *, refresh: bool = False) -> None:
        """Discover plugins from installed distributions (cached scan)."""
        self.scan = scan(refresh=refresh)
        for candidate in self.scan.candidates:
            self._add_candidate(candidate)
        self._rebuild()

    def register_module(self, plugin_id: str, module: Any) -> PluginInfo:
        """Register an already imported plugin object (used by tests and embedders).

        A module with a declaration file beside it declares through that file,
        exactly as when it is installed.
        """
        info = PluginInfo(
            id=plugin_id,
            distribution=None,
            version=None,
            module=getattr(module, "__name__", repr(module)),
            status=LOADED,
        )
        if self._claim_id(info) and self._selected(info):
            declarations = self._module_declarations(info, module)
            if declarations is not None:
                info.declared, info.api = True, declarations.api
                self._declarations[plugin_id] = declarations
            if info.status == LOADED:
                self._import(info, lambda: module)
        self._rebuild()
        return info

    def _module_declarations(
        self, info: PluginInfo, module: Any
    ) -> Declarations | None:
        if not isinstance(module, types.ModuleType):
            return None
        try:
            found = locate_declarations(module.__name__)
            if found is None:
                return None
            info.declaration_path = str(found)
            return parse_declarations(read_declarations(found), str(found))
        except PluginError as exc:
            self._fail(info, str(exc))
            return None

    def _claim_id(self, info: PluginInfo) -> bool:
        existing = self.info(info.id)
        self.plugins.append(info)
        if existing is None:
            return True
        where = existing.distribution or existing.module
        info.shadowed_by = where
        self._mark(
            info,
            CONFLICT,
            f"plugin id {info.id!r} is already used by {where}; uninstall one of "
            f"the two distributions",
        )
        return False

    def _add_candidate(self, candidate: Candidate) -> None:
        info = PluginInfo(
            id=candidate.id,
            distribution=candidate.distribution,
            version=candidate.version,
            module=candidate.module,
            status=LOADED,
            declaration_path=candidate.declaration_path,
        )
        if not self._claim_id(info):
            return
        for other in candidate.duplicates:
            shadowed = PluginInfo(candidate.id, other, None, candidate.module, CONFLICT)
            shadowed.shadowed_by = candidate.distribution
            self.plugins.append(shadowed)
            self._mark(
                shadowed,
                CONFLICT,
                f"plugin id {candidate.id!r} is also used by "
                f"{candidate.distribution}, which loads; uninstall one of the two",
            )
        if not self._selected(info):
            return
        if candidate.declaration_error is not None:
            self._fail(info, candidate.declaration_error)
            return
        load = _entry_point_loader(candidate.module)
        if candidate.declarations is None:
            # Declared through code: its declaration hooks need the module now.
            self._import(info, load)
            return
        self._declare(info, candidate, load)

    def _declare(
        self, info: PluginInfo, candidate: Candidate, load: Callable[[], Any]
    ) -> None:
        """Take a plugin's declarations from its file and defer its import."""
        assert candidate.declarations is not None
        try:
            declarations = parse_declarations(
                candidate.declarations, candidate.declaration_path or candidate.module
            )
        except PluginError as exc:
            self._fail(info, str(exc))
            return
        info.declared = True
        info.api = declarations.api
        if declarations.api and not in_range(CORE_API_VERSION, declarations.api):
            self._mark(
                info,
                INCOMPATIBLE,
                f"needs core API {declarations.api}, but this sentinel-core provides "
                f"API {CORE_API_VERSION}; install a release of "
                f"{info.distribution or info.module} made for this core",
            )
            return
        self._declarations[info.id] = declarations
        self._pending[info.id] = load

    def _selected(self, info: PluginInfo) -> bool:
        if info.id == CORE_PLUGIN:
            if info.id in self.disabled:
                warn_once(
                    "plugin %r cannot be disabled: it declares the config sections "
                    "and commands every other plugin relies on",
                    CORE_PLUGIN,
                )
            return True
        if info.id in self.disabled:
            self._mark(info, DISABLED, None)
            return False
        if self.only is not None and info.id not in self.only:
            self._mark(info, DISABLED, None)
            return False
        return True

    def import_plugins(self) -> None:
        """Import every declared plugin not imported yet, in plugin id order."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        changed = False
        for plugin_id in sorted(pending):
            info = self.info(plugin_id)
            if info is None or info.status not in (LOADED, CONFLICT):
                continue
            if not self._import(info, pending[plugin_id]):
                changed = True
        if changed:
            self._rebuild()

    @property
    def _pm(self) -> pluggy.PluginManager:
        """The pluggy manager, created when a plugin module is first registered.

        Listing declared plugins never needs it, so pluggy is imported late.
        """
        if self._manager is None:
            import pluggy

            from sentinel.core import hookspecs

            self._manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
            self._manager.add_hookspecs(hookspecs)
        return self._manager

    @property
    def pm(self) -> pluggy.PluginManager:
        """The pluggy manager, with every enabled plugin imported."""
        self.import_plugins()
        return self._pm

    def _import(self, info: PluginInfo, load: Callable[[], Any]) -> bool:
        started = time.perf_counter()
        try:
            module = load()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - even sys.exit() must not stop the host
            info.import_seconds = time.perf_counter() - started
            self._fail(info, f"import failed: {_describe(exc)}")
            return False
        info.import_seconds = time.perf_counter() - started
        info.imported = True
        import pluggy

        try:
            self._pm.register(module, name=info.id)
        except pluggy.PluginValidationError as exc:
            self._fail(info, f"invalid hook implementation: {exc}")
            return False
        except ValueError as exc:
            self._fail(info, f"cannot register: {exc}")
            return False
        unknown = sorted(
            caller.name
            for caller in self._pm.get_hookcallers(module) or []
            if not caller.has_spec()
        )
        if unknown:
            self._pm.unregister(module)
            self._fail(
                info, f"implements hooks that no spec defines: {', '.join(unknown)}"
            )
            return False
        info.hooks = sorted(
            caller.name for caller in self._pm.get_hookcallers(module) or []
        )
        if self.trace:
            self._trace(info.id, module)
        if info.declared:
            coded = sorted(set(info.hooks) & set(DECLARATION_HOOKS))
            if coded:
                info.notes.append(
                    f"implements {', '.join(coded)} in code although it has a "
                    f"declaration file; only the file counts, so remove the hooks"
                )
            return True
        return self._read_code_declarations(info)

    def _read_code_declarations(self, info: PluginInfo) -> bool:
        values: dict[str, list[Any]] = {}
        kinds = {
            "sentinel_types": TypeSpec,
            "sentinel_commands": CommandSpec,
            "sentinel_config_sections": ConfigSection,
        }
        for hook_name, kind in kinds.items():
            caller = getattr(self._pm.hook, hook_name)
            values[hook_name] = []
            for impl in caller.get_hookimpls():
                if impl.plugin_name != info.id:
                    continue
                try:
                    values[hook_name] = _typed(impl.function(), kind)
                except Exception as exc:  # noqa: BLE001 - isolate one plugin's failure
                    self._pm.unregister(name=info.id)
                    self._fail(
                        info, f"hook {hook_name} raised {type(exc).__name__}: {exc}"
                    )
                    return False
        self._declarations[info.id] = Declarations(
            None,
            tuple(values["sentinel_types"]),
            tuple(values["sentinel_commands"]),
            tuple(values["sentinel_config_sections"]),
            None,
        )
        return True

    def _trace(self, plugin_id: str, module: Any) -> None:
        for caller in self._pm.get_hookcallers(module) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is module:
                    # pluggy calls impl.function; wrapping it times every path
                    # that reaches this implementation.
                    impl.function = _traced(  # type: ignore[misc]
                        caller.name, plugin_id, impl.function
                    )

    # -- statuses ----------------------------------------------------------

    def _mark(self, info: PluginInfo, status: str, error: str | None) -> None:
        info.status = status
        info.error = error
        if status in (FAILED, INCOMPATIBLE, CONFLICT) and error:
            where = info.distribution or info.module
            warn_once("plugin %s (%s) %s: %s", info.id, where, status, error)

    def _fail(self, info: PluginInfo, error: str) -> None:
        self._declarations.pop(info.id, None)
        self._mark(info, FAILED, error)
        if self.strict:
            where = info.distribution or info.module
            raise PluginError(
                f"plugin {info.id!r} from {where} failed to load: {error}"
                f" (strict mode is on; unset --strict/{STRICT_ENV} to skip it)"
            )

    def _rebuild(self) -> None:
        """Recompute types, commands, sections and conflicts of active plugins."""
        active = [
            info
            for info in sorted(self.plugins, key=lambda info: info.id)
            if info.status in (LOADED, CONFLICT)
            and info.shadowed_by is None
            and info.id in self._declarations
        ]
        for info in active:
            if info.status == CONFLICT:
                info.status, info.error = LOADED, None
        self.registry = TypeRegistry(self._prefer)
        claims: dict[str, list[str]] = {}
        commands: dict[str, dict[str, CommandSpec]] = {}
        sections: dict[str, dict[str, ConfigSection]] = {}
        for info in active:
            declarations = self._declarations[info.id]
            self.registry.extend(declarations.types, info.id)
            for spec in declarations.types:
                claims.setdefault(f"{spec.kind}:{spec.name}", []).append(info.id)
            for command in declarations.commands:
                claims.setdefault(f"command:{command.name}", []).append(info.id)
                commands.setdefault(command.name, {})[info.id] = command
            for section in declarations.sections:
                claims.setdefault(f"config:{section.name}", []).append(info.id)
                sections.setdefault(section.name, {})[info.id] = section
            info.provides = _provides(declarations)
        self.conflicts = []
        for key, plugins in sorted(claims.items()):
            unique = tuple(sorted(set(plugins)))
            if len(unique) > 1:
                self.conflicts.append(self._resolve(key, unique))
        chosen = {conflict.key: conflict.chosen for conflict in self.conflicts}
        self._commands = {}
        for name, owners in sorted(commands.items()):
            winner = chosen.get(f"command:{name}", min(owners))
            self._commands[name] = (owners[winner], winner)
        self._sections = [
            owners[chosen.get(f"config:{name}", min(owners))]
            for name, owners in sorted(sections.items())
        ]

    def _resolve(self, key: str, plugins: tuple[str, ...]) -> Conflict:
        owner = name_owner(key, plugins)
        if owner is not None and self.strict:
            self._reject_intruders(key, owner, plugins)
        preferred = self._prefer.get(key)
        if preferred is not None and preferred in plugins:
            return Conflict(key, plugins, preferred, True)
        if preferred is not None:
            warn_once(
                "plugins.prefer chooses %r for %s, but only %s declare it",
                preferred,
                key,
                ", ".join(plugins),
            )
        winner = plugins[0] if owner is None else owner
        for loser in plugins:
            info = self.info(loser)
            if loser == winner or info is None:
                continue
            if owner is None:
                message = (
                    f"{key} is also declared by plugin {winner!r}, which wins by "
                    f"id order; choose with plugins.prefer: {{{key!r}: {loser!r}}}"
                )
            else:
                message = (
                    f"{key} belongs to plugin {winner!r}, so this plugin's "
                    f"declaration of it is ignored; rename it in plugin {loser!r}"
                )
            info.error = message if info.error is None else f"{info.error}; {message}"
            info.status = CONFLICT
            warn_once("plugin %s conflict: %s", loser, message)
        return Conflict(key, plugins, winner, False, owner is not None)

    def _reject_intruders(self, key: str, owner: str, plugins: tuple[str, ...]) -> None:
        """Raise PluginError because other plugins declare a name ``owner`` owns."""
        intruders = []
        for plugin_id in plugins:
            info = self.info(plugin_id)
            if plugin_id != owner and info is not None:
                intruders.append(f"{plugin_id!r} ({info.distribution or info.module})")
        subject = "plugin" if len(intruders) == 1 else "plugins"
        verb = "declares" if len(intruders) == 1 else "declare"
        raise PluginError(
            f"{subject} {', '.join(intruders)} {verb} {key}, which belongs to "
            f"plugin {owner!r}; uninstall or disable the intruding plugin (strict "
            f"mode is on; unset --strict/{STRICT_ENV} to ignore the declaration)"
        )

    # -- queries -----------------------------------------------------------

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
                self._pm.unregister(name=impl.plugin_name)
                if info is not None:
                    self._fail(
                        info, f"hook {hook_name} raised {type(exc).__name__}: {exc}"
                    )
                continue
            results.append((impl.plugin_name, result))
        return results

    def hook_order(self, hook_name: str) -> list[tuple[str, str]]:
        """Return ``(plugin id, placement)`` in the order a hook calls them."""
        caller = getattr(self.pm.hook, hook_name, None)
        if caller is None or not caller.has_spec():
            known = ", ".join(sorted(self.hook_names()))
            raise PluginError(f"no hook named {hook_name!r}; known hooks: {known}")
        order = []
        for impl in reversed(caller.get_hookimpls()):
            placement = ""
            if impl.tryfirst:
                placement = "tryfirst"
            elif impl.trylast:
                placement = "trylast"
            order.append((impl.plugin_name, placement))
        return order

    def hook_names(self) -> list[str]:
        """Return the names of every hook spec."""
        return sorted(
            name
            for name in dir(self._pm.hook)
            if name.startswith("sentinel_") and getattr(self._pm.hook, name).has_spec()
        )

    def info(self, plugin_id: str) -> PluginInfo | None:
        """Return the record of ``plugin_id``, if such a plugin was found."""
        for info in self.plugins:
            if info.id == plugin_id and info.shadowed_by is None:
                return info
        return None

    def plugin_object(self, plugin_id: str) -> Any:
        """Return the imported module (or object) of a plugin, or None."""
        return self._pm.get_plugin(plugin_id)

    def ids(self) -> list[str]:
        """Return every plugin id found, whatever its status."""
        return sorted({info.id for info in self.plugins})

    def inactive_section_names(self) -> list[str]:
        """Return config sections that disabled or failed plugins declare as data.

        Their keys in a config file are not validated, but not unknown either.
        """
        names: set[str] = set()
        for candidate in self.scan.candidates if self.scan else []:
            if candidate.id in self._declarations or not candidate.declarations:
                continue
            config = candidate.declarations.get("config")
            if isinstance(config, dict):
                names.update(config)
        return sorted(names)

    def inactive_command_owner(self, name: str) -> PluginInfo | None:
        """Return the disabled, failed or incompatible plugin declaring ``name``.

        Only declaration files are searched: a plugin that declares its
        commands in code is not imported when it is skipped.
        """
        for candidate in self.scan.candidates if self.scan else []:
            if candidate.id in self._declarations or not candidate.declarations:
                continue
            commands = candidate.declarations.get("commands")
            if not isinstance(commands, list):
                continue
            if any(
                isinstance(command, dict) and command.get("name") == name
                for command in commands
            ):
                return self.info(candidate.id)
        return None

    def declarations(self, plugin_id: str) -> Declarations | None:
        """Return what an active plugin declares, from its file or its hooks."""
        return self._declarations.get(plugin_id)

    def commands(self) -> dict[str, tuple[CommandSpec, str]]:
        """Return CLI commands by name with the plugin that declared each."""
        return dict(self._commands)

    def config_sections(self) -> list[ConfigSection]:
        """Return the config sections of active plugins, one per name."""
        return list(self._sections)

    def listing(self) -> dict[str, Any] | None:
        """Return plugins, conflicts and command help as JSON-ready data.

        None once any plugin module was imported: another process would have
        to import it too, so a saved copy could not stand in for loading.
        """
        if any(info.imported for info in self.plugins):
            return None
        return {
            "plugins": [info.as_dict() for info in self.plugins],
            "conflicts": [conflict.as_dict() for conflict in self.conflicts],
            "commands": {
                name: [spec.help, plugin_id]
                for name, (spec, plugin_id) in self._commands.items()
            },
        }

    def failures(self) -> list[PluginInfo]:
        """Return the plugins that failed to load."""
        return [info for info in self.plugins if info.status == FAILED]


def _entry_point_loader(value: str) -> Callable[[], Any]:
    module_name, _, attribute = value.partition(":")

    def load() -> Any:
        loaded: Any = importlib.import_module(module_name.strip())
        for part in filter(None, attribute.strip().split(".")):
            loaded = getattr(loaded, part)
        return loaded

    return load


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"the module called sys.exit({exc.code!r}) while being imported"
    if isinstance(exc, ImportError) and exc.name and exc.name.startswith("sentinel."):
        return (
            f"{type(exc).__name__}: {exc}; the plugin was built for another "
            f"sentinel-core (this one provides API {CORE_API_VERSION}), so upgrade "
            f"the plugin or pin a matching sentinel-core"
        )
    return f"{type(exc).__name__}: {exc}"


def _provides(declarations: Declarations) -> dict[str, list[str]]:
    provides: dict[str, list[str]] = {}
    for spec in declarations.types:
        provides.setdefault(spec.kind, []).append(spec.name)
    if declarations.commands:
        provides["command"] = [command.name for command in declarations.commands]
    if declarations.sections:
        provides["config"] = [section.name for section in declarations.sections]
    return provides


def _traced(hook_name: str, plugin_id: str, function: Any) -> Any:
    def traced(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return function(*args, **kwargs)
        except BaseException as exc:
            outcome = f"raised {type(exc).__name__}"
            raise
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            sys.stderr.write(
                f"trace: {hook_name} plugin={plugin_id} {elapsed:.2f} ms {outcome}\n"
            )
            sys.stderr.flush()

    return traced


def _typed(values: Any, kind: type[Any]) -> list[Any]:
    if not isinstance(values, (list, tuple)):
        raise PluginError(f"expected a list of {kind.__name__}, got {values!r}")
    for value in values:
        if not isinstance(value, kind):
            raise PluginError(f"expected a {kind.__name__}, got {value!r}")
    return list(values)
