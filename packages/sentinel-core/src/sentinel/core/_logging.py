"""Logging set-up from the ``logging`` config section; only the CLI calls it."""

from __future__ import annotations

import logging
from typing import Any

from sentinel.core._errors import ConfigError
from sentinel.core._registry import TypeRegistry
from sentinel.core._types import LOG_HANDLER


def configure_logging(
    settings: dict[str, Any], registry: TypeRegistry, verbosity: int = 0
) -> None:
    """Apply the logging section: a full dictConfig, or a level and a format.

    A handler in a dictConfig may name a plugin type with ``plugin: NAME``
    (for example ``plugin: slack``) instead of a dotted class path.
    """
    dict_config = settings.get("config")
    if dict_config:
        _configure_from_dict(dict_config, registry)
    else:
        level = "DEBUG" if verbosity > 0 else settings.get("level", "INFO")
        logging.basicConfig(
            level=level,
            format=settings.get("format") or logging.BASIC_FORMAT,
            force=True,
        )
    if verbosity > 0:
        logging.getLogger().setLevel(logging.DEBUG)


def _configure_from_dict(dict_config: dict[str, Any], registry: TypeRegistry) -> None:
    resolved = dict(dict_config)
    resolved.setdefault("version", 1)
    handlers = {}
    for name, declared in (dict_config.get("handlers") or {}).items():
        handler = dict(declared)
        plugin_type = handler.pop("plugin", None)
        if plugin_type is not None:
            handler["()"] = registry.get(LOG_HANDLER, str(plugin_type))
        handlers[name] = handler
    resolved["handlers"] = handlers
    try:
        import logging.config

        logging.config.dictConfig(resolved)
    except (ValueError, TypeError, AttributeError, ImportError) as exc:
        raise ConfigError(
            f"logging.config is not a valid logging dictConfig: {exc}"
        ) from exc
