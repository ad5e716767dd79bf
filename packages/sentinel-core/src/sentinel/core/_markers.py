"""The pluggy marker that plugins use to implement sentinel hooks."""

from __future__ import annotations

import pluggy

from sentinel.core.hookspecs import PROJECT_NAME

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
