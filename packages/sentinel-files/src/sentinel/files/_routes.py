"""The ``files.routes`` config: every route validated and filled in one place.

The watcher (in the agent process) and the ``files.process`` task (in worker
processes) both read routes through :func:`load_routes`, so a route means the
same thing on both sides.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentinel.files._errors import RouteConfigError, RouteNotFoundError

DEFAULT_TASK = "box.upload"


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """One validated route, with its folders made absolute."""

    name: str
    folder: Path
    patterns: tuple[str, ...]
    recursive: bool
    task: str
    options: Mapping[str, Any]
    processed: Path
    failed: Path
    follow_symlinks: bool = False
    index: int = 0
    exclude: tuple[Path, ...] = field(default=())

    def key(self, name: str) -> str:
        """Return the config key of one of this route's settings."""
        return f"files.routes[{self.index}].{name}"


def load_routes(settings: Mapping[str, Any], workdir: Path) -> list[RouteConfig]:
    """Validate the ``files`` settings' routes and fill in their defaults.

    Raises :class:`RouteConfigError` naming the config key, the value and the
    fix for the first invalid setting.
    """
    raw_routes = settings.get("routes")
    if raw_routes is None:
        raw_routes = []
    if not isinstance(raw_routes, Sequence) or isinstance(raw_routes, str):
        raise _bad("files.routes", raw_routes, "a list of route mappings")
    routes = [_one_route(raw, index, workdir) for index, raw in enumerate(raw_routes)]
    _check_unique_names(routes)
    return routes


def find_route(routes: Sequence[RouteConfig], name: str) -> RouteConfig:
    """Return the route called ``name``; raise :class:`RouteNotFoundError`."""
    for route in routes:
        if route.name == name:
            return route
    known = ", ".join(repr(route.name) for route in routes) or "none"
    raise RouteNotFoundError(
        f"route {name!r} is not in files.routes (known: {known}); the job was "
        f"enqueued with a config that the worker does not have",
        hint="Start the workers with the same config file as the watcher.",
    )


def check_folders(routes: Sequence[RouteConfig]) -> None:
    """Check that each route folder is, or can become, a directory.

    A folder below a regular file cannot be created; the error names the
    config key and the path instead of failing later with NotADirectoryError.
    """
    for route in routes:
        for key, folder in (
            ("folder", route.folder),
            ("processed", route.processed),
            ("failed", route.failed),
        ):
            blocker = _non_directory_ancestor(folder)
            if blocker is not None:
                raise RouteConfigError(
                    f"{route.key(key)}: folder {str(folder)!r} cannot be used "
                    f"because {str(blocker)!r} is a file, not a directory",
                    hint=f"Set {route.key(key)} to a folder path, or move the file "
                    f"{str(blocker)!r} away.",
                )


def _non_directory_ancestor(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            return None
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return None


def _one_route(raw: Any, index: int, workdir: Path) -> RouteConfig:
    prefix = f"files.routes[{index}]"
    if not isinstance(raw, Mapping):
        raise _bad(prefix, raw, "a mapping with folder, task and the other keys")
    known = {
        "name",
        "folder",
        "patterns",
        "recursive",
        "task",
        "options",
        "processed",
        "failed",
        "follow_symlinks",
    }
    for key in raw:
        if key not in known:
            raise _bad(
                f"{prefix}.{key}",
                raw[key],
                f"one of the keys {', '.join(sorted(known))}",
            )
    folder_text = _text(raw, "folder", "inbox", prefix)
    folder = (workdir / folder_text).resolve()
    processed = (workdir / _text(raw, "processed", "processed", prefix)).resolve()
    failed = (workdir / _text(raw, "failed", "failed", prefix)).resolve()
    name = _text(raw, "name", folder.name or "inbox", prefix)
    patterns = raw.get("patterns", ["*"])
    if patterns is None:
        patterns = ["*"]
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, Sequence) or not all(
        isinstance(item, str) and item for item in patterns
    ):
        raise _bad(f"{prefix}.patterns", patterns, "a list of glob patterns")
    options = raw.get("options") or {}
    if not isinstance(options, Mapping):
        raise _bad(f"{prefix}.options", options, "a mapping of extra payload keys")
    return RouteConfig(
        name=name,
        folder=folder,
        patterns=tuple(patterns) or ("*",),
        recursive=_flag(raw, "recursive", True, prefix),
        task=_text(raw, "task", DEFAULT_TASK, prefix),
        options=dict(options),
        processed=processed,
        failed=failed,
        follow_symlinks=_flag(raw, "follow_symlinks", False, prefix),
        index=index,
        # Output folders inside a watched folder must not feed it again.
        exclude=tuple(p for p in (processed, failed) if p.is_relative_to(folder)),
    )


def _text(raw: Mapping[str, Any], key: str, default: str, prefix: str) -> str:
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{prefix}.{key}", value, "a non-empty string")
    return value


def _flag(raw: Mapping[str, Any], key: str, default: bool, prefix: str) -> bool:
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad(f"{prefix}.{key}", value, "true or false")
    return value


def _check_unique_names(routes: Sequence[RouteConfig]) -> None:
    seen: dict[str, RouteConfig] = {}
    for route in routes:
        if route.name in seen:
            raise RouteConfigError(
                f"{route.key('name')}: route name {route.name!r} is already used by "
                f"{seen[route.name].key('name')}",
                hint=f"Give each route its own name; set {route.key('name')}.",
            )
        seen[route.name] = route


def _bad(key: str, value: Any, expected: str) -> RouteConfigError:
    return RouteConfigError(
        f"{key}: invalid value {value!r}; expected {expected}",
        hint=f"Fix {key} in the config file.",
    )


def check_tasks(routes: Sequence[RouteConfig], registered: Collection[str]) -> None:
    """Check that every route's task is a registered queue task."""
    for route in routes:
        if route.task not in registered:
            names = ", ".join(sorted(registered)) or "none"
            raise RouteConfigError(
                f"{route.key('task')}: task {route.task!r} is not registered "
                f"(registered tasks: {names})",
                hint=f"Set {route.key('task')} to a registered task, or install "
                f"the plugin that provides {route.task!r}.",
            )
