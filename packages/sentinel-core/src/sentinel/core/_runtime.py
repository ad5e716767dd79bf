"""Start-up of a sentinel process: plugins first, then the config they describe."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from sentinel.core._config import ENV_ENV, Config, find_config_file, load_config
from sentinel.core._plugins import (
    DISABLE_ENV,
    STRICT_ENV,
    PluginHost,
    env_flag,
    env_list,
)

EXTRA_PLUGINS_ENV = "SENTINEL_EXTRA_PLUGINS"


def bootstrap(
    env: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    *,
    strict: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[PluginHost, Config]:
    """Load the plugins and the merged config of one environment.

    ``env`` and ``config_path`` default to ``$SENTINEL_ENV`` and
    ``$SENTINEL_CONFIG`` (or ./sentinel.yaml). The file's ``plugins`` section
    is read before any plugin loads, because it says which ones to skip.
    """
    environ = os.environ if environ is None else environ
    env = env or environ.get(ENV_ENV) or None
    path = find_config_file(config_path)
    early = load_config(path, env, sections=(), environ=environ)
    plugin_settings: dict[str, Any] = early.section("plugins")

    disabled = set(env_list(DISABLE_ENV)) | set(plugin_settings.get("disable") or [])
    if strict is None:
        strict = env_flag(STRICT_ENV) or bool(plugin_settings.get("strict"))
    host = PluginHost(
        strict=strict,
        disabled=disabled,
        prefer=dict(plugin_settings.get("prefer") or {}),
    )
    host.load_entry_points()
    for plugin_id, module_name in _extra_plugins(environ):
        host.register_module(plugin_id, importlib.import_module(module_name))
    config = load_config(path, env, sections=host.config_sections(), environ=environ)
    return host, config


def _extra_plugins(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Parse ``id=module`` pairs that load plugins not installed as distributions."""
    pairs = []
    for item in environ.get(EXTRA_PLUGINS_ENV, "").split(","):
        plugin_id, sep, module_name = item.strip().partition("=")
        if sep and plugin_id and module_name:
            pairs.append((plugin_id.strip(), module_name.strip()))
    return pairs
