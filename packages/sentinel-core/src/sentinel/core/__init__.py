"""sentinel-core: the plugin host, config, base type, limiters and CLI of sentinel."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentinel.core._agent import Agent, ServiceMissingError
    from sentinel.core._config import Config, find_config_file, load_config
    from sentinel.core._discovery import plugin_declarations
    from sentinel.core._errors import (
        ConfigError,
        ConflictError,
        ImportTargetError,
        MissingDependencyError,
        PermanentTaskError,
        PluginError,
        SentinelError,
        UnknownTypeError,
    )
    from sentinel.core._events import EventLog
    from sentinel.core._imports import import_target
    from sentinel.core._limits import ConcurrencyLimiter, RateLimiter
    from sentinel.core._logging import configure_logging
    from sentinel.core._manifest import Declarations, declaration_relpath
    from sentinel.core._markers import hookimpl
    from sentinel.core._model import Model, fields
    from sentinel.core._plugins import Conflict, PluginHost, PluginInfo
    from sentinel.core._registry import TypeRegistry
    from sentinel.core._runtime import bootstrap
    from sentinel.core._schema import config_schema
    from sentinel.core._tasks import JobQueue, Task, TaskContext
    from sentinel.core._types import (
        BOX_CLIENT,
        FILE_FORMAT,
        HEALTH_CHECK,
        LOG_HANDLER,
        QUEUE_TASK,
        WEB_ROUTES,
        CommandSpec,
        ConfigSection,
        Field,
        TypeSpec,
    )
    from sentinel.core._urls import redact_url
    from sentinel.core._version import CORE_API_VERSION

# Each public name is imported from its module on first access, so that
# ``sentinel --help`` pays only for the modules it uses (PEP 562).
_EXPORTS = {
    "Agent": "sentinel.core._agent",
    "ServiceMissingError": "sentinel.core._agent",
    "Config": "sentinel.core._config",
    "find_config_file": "sentinel.core._config",
    "load_config": "sentinel.core._config",
    "plugin_declarations": "sentinel.core._discovery",
    "ConfigError": "sentinel.core._errors",
    "ConflictError": "sentinel.core._errors",
    "ImportTargetError": "sentinel.core._errors",
    "MissingDependencyError": "sentinel.core._errors",
    "PermanentTaskError": "sentinel.core._errors",
    "PluginError": "sentinel.core._errors",
    "SentinelError": "sentinel.core._errors",
    "UnknownTypeError": "sentinel.core._errors",
    "EventLog": "sentinel.core._events",
    "import_target": "sentinel.core._imports",
    "ConcurrencyLimiter": "sentinel.core._limits",
    "RateLimiter": "sentinel.core._limits",
    "configure_logging": "sentinel.core._logging",
    "Declarations": "sentinel.core._manifest",
    "declaration_relpath": "sentinel.core._manifest",
    "hookimpl": "sentinel.core._markers",
    "Model": "sentinel.core._model",
    "fields": "sentinel.core._model",
    "Conflict": "sentinel.core._plugins",
    "PluginHost": "sentinel.core._plugins",
    "PluginInfo": "sentinel.core._plugins",
    "TypeRegistry": "sentinel.core._registry",
    "bootstrap": "sentinel.core._runtime",
    "config_schema": "sentinel.core._schema",
    "JobQueue": "sentinel.core._tasks",
    "Task": "sentinel.core._tasks",
    "TaskContext": "sentinel.core._tasks",
    "BOX_CLIENT": "sentinel.core._types",
    "CommandSpec": "sentinel.core._types",
    "ConfigSection": "sentinel.core._types",
    "FILE_FORMAT": "sentinel.core._types",
    "Field": "sentinel.core._types",
    "HEALTH_CHECK": "sentinel.core._types",
    "LOG_HANDLER": "sentinel.core._types",
    "QUEUE_TASK": "sentinel.core._types",
    "TypeSpec": "sentinel.core._types",
    "WEB_ROUTES": "sentinel.core._types",
    "redact_url": "sentinel.core._urls",
    "CORE_API_VERSION": "sentinel.core._version",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "Agent",
    "BOX_CLIENT",
    "CORE_API_VERSION",
    "CommandSpec",
    "ConcurrencyLimiter",
    "Config",
    "ConfigError",
    "ConfigSection",
    "Conflict",
    "ConflictError",
    "Declarations",
    "EventLog",
    "FILE_FORMAT",
    "Field",
    "HEALTH_CHECK",
    "ImportTargetError",
    "JobQueue",
    "LOG_HANDLER",
    "MissingDependencyError",
    "Model",
    "PermanentTaskError",
    "PluginError",
    "PluginHost",
    "PluginInfo",
    "QUEUE_TASK",
    "RateLimiter",
    "SentinelError",
    "ServiceMissingError",
    "Task",
    "TaskContext",
    "TypeRegistry",
    "TypeSpec",
    "UnknownTypeError",
    "WEB_ROUTES",
    "bootstrap",
    "config_schema",
    "configure_logging",
    "declaration_relpath",
    "fields",
    "find_config_file",
    "hookimpl",
    "import_target",
    "load_config",
    "plugin_declarations",
    "redact_url",
]
