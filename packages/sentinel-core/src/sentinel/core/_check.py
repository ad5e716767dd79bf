"""``sentinel plugins check``: validate installed plugins for a plugin's own CI."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sentinel.core._config import load_config
from sentinel.core._errors import ConfigError, SentinelError
from sentinel.core._imports import import_target
from sentinel.core._plugins import (
    CONFLICT,
    DISABLED,
    FAILED,
    INCOMPATIBLE,
    PluginHost,
    PluginInfo,
)

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about one plugin."""

    plugin: str
    level: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Return the finding as a JSON-ready dict."""
        return {"plugin": self.plugin, "level": self.level, "message": self.message}


def check_plugins(host: PluginHost, ids: Iterable[str] = ()) -> list[Problem]:
    """Import and validate plugins (all, or those in ``ids``); return the findings.

    Errors: a failed import, an invalid or unknown hook, a bad declaration
    file, a declared type or command that does not import, a config default
    that its own field rejects, an API range that excludes this core, a
    plugin id used twice. Warnings: no declared API
    range, declarations in code, unresolved conflicts, unmarked hook-like
    functions.
    """
    host.import_plugins()
    wanted = set(ids)
    problems = [
        Problem(plugin_id, ERROR, "no plugin has this id")
        for plugin_id in sorted(wanted - set(host.ids()))
    ]
    for info in host.plugins:
        if wanted and info.id not in wanted:
            continue
        problems.extend(_check_one(host, info))
    return problems


def _check_one(host: PluginHost, info: PluginInfo) -> list[Problem]:
    found: list[Problem] = []

    def add(level: str, message: str) -> None:
        found.append(Problem(info.id, level, message))

    if info.status == DISABLED:
        return found
    if info.status in (FAILED, INCOMPATIBLE):
        add(ERROR, f"{info.status}: {info.error}")
        return found
    if info.status == CONFLICT:
        add(ERROR if info.shadowed_by else WARNING, f"conflict: {info.error}")
        if info.shadowed_by:
            return found
    _check_metadata(info, add)
    _check_targets(host, info, add)
    _check_unmarked(host, info, add)
    return found


def _check_metadata(info: PluginInfo, add: Any) -> None:
    if info.distribution is None:
        add(WARNING, "not installed from a distribution (registered in code)")
    elif not info.version:
        add(ERROR, f"distribution {info.distribution} has no version")
    if not info.declared:
        add(
            WARNING,
            "declares what it provides in code; ship a declaration file "
            f"({info.module.replace('.', '/')}.toml) so listing and --help need no "
            "import",
        )
    elif not info.api:
        add(WARNING, 'declares no core API range; add api = ">=1.0,<2"')
    for note in info.notes:
        add(WARNING, note)


def _check_targets(host: PluginHost, info: PluginInfo, add: Any) -> None:
    declarations = host.declarations(info.id)
    if declarations is not None:
        for section in declarations.sections:
            # The defaults alone must pass the section's own schema.
            try:
                load_config(None, None, [section], environ={}, report_unknown=False)
            except ConfigError as exc:
                add(ERROR, f"config section {section.name!r}: default {exc}")
        for spec in declarations.types:
            _check_target(add, f"type {spec.kind}:{spec.name}", spec.target)
        for command in declarations.commands:
            target = _check_target(add, f"command {command.name!r}", command.target)
            if target is not None and not _is_click_command(target):
                add(
                    ERROR,
                    f"command {command.name!r}: {command.target} is not a "
                    "click command",
                )


def _check_unmarked(host: PluginHost, info: PluginInfo, add: Any) -> None:
    module = _module_of(host, info)
    if module is not None:
        for name, value in inspect.getmembers(module, callable):
            if name.startswith("sentinel_") and not hasattr(value, "sentinel_impl"):
                add(
                    WARNING,
                    f"function {name} looks like a hook but is not marked with "
                    "@hookimpl, so it is never called",
                )


def _check_target(add: Any, what: str, target: str) -> Any:
    try:
        return import_target(target)
    except (SentinelError, ImportError) as exc:
        add(ERROR, f"{what}: {exc}")
    except Exception as exc:  # noqa: BLE001 - report any import failure
        add(ERROR, f"{what}: importing {target} raised {type(exc).__name__}: {exc}")
    return None


def _is_click_command(value: Any) -> bool:
    import click

    return isinstance(value, click.Command)


def _module_of(host: PluginHost, info: PluginInfo) -> Any:
    if not info.imported or info.status == FAILED:
        return None
    return host.plugin_object(info.id)
