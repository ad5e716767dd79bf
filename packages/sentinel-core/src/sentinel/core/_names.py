"""Names of the environment variables that sentinel reads, in one light module.

The CLI module needs them to define its options; keeping them here lets it
avoid importing the config and plugin modules on the fast paths.
"""

from __future__ import annotations

CONFIG_ENV = "SENTINEL_CONFIG"
ENV_ENV = "SENTINEL_ENV"
STRICT_ENV = "SENTINEL_STRICT"
DISABLE_ENV = "SENTINEL_DISABLE_PLUGINS"
ALLOW_ENV = "SENTINEL_PLUGINS"
TRACE_ENV = "SENTINEL_TRACE_HOOKS"
EXTRA_PLUGINS_ENV = "SENTINEL_EXTRA_PLUGINS"
CACHE_DIR_ENV = "SENTINEL_CACHE_DIR"
NO_CACHE_ENV = "SENTINEL_NO_CACHE"
