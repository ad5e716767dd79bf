"""sentinel-core: the plugin host, config, base type, limiters and CLI of sentinel."""

from __future__ import annotations

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
from sentinel.core._version import CORE_API_VERSION

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
]
