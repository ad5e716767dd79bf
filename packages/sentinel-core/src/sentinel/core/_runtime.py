"""Start-up of a sentinel process: plugins first, then the config they describe."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping
from typing import Any

from sentinel.core._config import Config, find_config_file, load_config
from sentinel.core._errors import ConfigError
from sentinel.core._names import ENV_ENV, EXTRA_PLUGINS_ENV
from sentinel.core._plugins import (
    ALLOW_ENV,
    DISABLE_ENV,
    STRICT_ENV,
    TRACE_ENV,
    PluginHost,
    env_list,
    warn_once,
)

_TRUE = {"1", "true", "yes", "on"}


def bootstrap(
    env: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    *,
    strict: bool | None = None,
    environ: Mapping[str, str] | None = None,
    disable: Iterable[str] = (),
    only: Iterable[str] = (),
    trace: bool | None = None,
    import_plugins: bool = False,
) -> tuple[PluginHost, Config]:
    """Load the plugins and the merged config of one environment.

    ``env`` and ``config_path`` default to ``$SENTINEL_ENV`` and
    ``$SENTINEL_CONFIG`` (or ./sentinel.yaml). The file's ``plugins`` section
    is read before any plugin loads, because it says which ones to skip.
    Plugin ids to skip come from ``disable``, ``$SENTINEL_DISABLE_PLUGINS``
    and ``plugins.disable``; an allowlist from ``only``, ``$SENTINEL_PLUGINS``
    or ``plugins.only`` loads those plugins alone (and the core's).

    With ``import_plugins`` or strict mode, plugins that ship a declaration
    file are imported before the config loads, so a plugin that fails to
    import contributes no config section. Otherwise each is imported on its
    first hook call.
    """
    environ = os.environ if environ is None else environ
    env = env or environ.get(ENV_ENV) or None
    path = find_config_file(config_path)
    early = load_config(path, env, sections=(), environ=environ, report_unknown=False)
    plugin_settings: dict[str, Any] = early.section("plugins")
    if strict is None:
        strict = _flag(environ, STRICT_ENV) or bool(plugin_settings.get("strict"))
    host = _load_host(
        plugin_settings,
        strict=strict,
        environ=environ,
        disable=disable,
        only=only,
        trace=trace,
    )
    if strict or import_plugins:
        host.import_plugins()
    config = load_config(
        path,
        env,
        sections=host.config_sections(),
        environ=environ,
        strict=strict,
        other_sections=host.inactive_section_names(),
    )
    return host, config


def load_plugin_host(
    env: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    disable: Iterable[str] = (),
    only: Iterable[str] = (),
) -> PluginHost:
    """Load the plugins as :func:`bootstrap` does, without validating the config.

    Help pages use it while the config is invalid. When the config file
    cannot be read at all, its ``plugins`` section is ignored. Strict mode is
    off, so a broken plugin is listed as failed instead of raising.
    """
    environ = os.environ if environ is None else environ
    env = env or environ.get(ENV_ENV) or None
    try:
        path = find_config_file(config_path)
        early = load_config(
            path, env, sections=(), environ=environ, report_unknown=False
        )
        plugin_settings: dict[str, Any] = early.section("plugins")
    except ConfigError:
        plugin_settings = {}
    return _load_host(
        plugin_settings,
        strict=False,
        environ=environ,
        disable=disable,
        only=only,
        trace=False,
    )


def _load_host(
    plugin_settings: Mapping[str, Any],
    *,
    strict: bool,
    environ: Mapping[str, str],
    disable: Iterable[str],
    only: Iterable[str],
    trace: bool | None,
) -> PluginHost:
    """Discover the plugins that the options, environment and settings select."""
    if trace is None:
        trace = _flag(environ, TRACE_ENV)
    selections = {
        "--disable": list(disable),
        DISABLE_ENV: env_list(DISABLE_ENV, environ),
        "plugins.disable": _ids(plugin_settings.get("disable")),
        "--only": list(only),
        ALLOW_ENV: env_list(ALLOW_ENV, environ),
        "plugins.only": _ids(plugin_settings.get("only")),
    }
    allow = [
        *selections["--only"],
        *selections[ALLOW_ENV],
        *selections["plugins.only"],
    ]
    host = PluginHost(
        strict=strict,
        disabled=[
            *selections["--disable"],
            *selections[DISABLE_ENV],
            *selections["plugins.disable"],
        ],
        only=allow or None,
        prefer=dict(plugin_settings.get("prefer") or {}),
        trace=trace,
    )
    host.load_entry_points()
    for plugin_id, module_name in _extra_plugins(environ):
        host.register_module(plugin_id, importlib.import_module(module_name))
    _warn_unknown_ids(host, selections)
    return host


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in _TRUE


def _ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


def _warn_unknown_ids(host: PluginHost, selections: dict[str, list[str]]) -> None:
    known = host.ids()
    for source, ids in selections.items():
        for plugin_id in ids:
            if plugin_id not in known:
                warn_once(
                    "%s names plugin %r, but no plugin has that id (ids: %s); see "
                    "'sentinel plugins'",
                    source,
                    plugin_id,
                    ", ".join(known),
                )


def _extra_plugins(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Parse ``id=module`` pairs that load plugins not installed as distributions."""
    pairs = []
    for item in environ.get(EXTRA_PLUGINS_ENV, "").split(","):
        plugin_id, sep, module_name = item.strip().partition("=")
        if sep and plugin_id and module_name:
            pairs.append((plugin_id.strip(), module_name.strip()))
    return pairs
