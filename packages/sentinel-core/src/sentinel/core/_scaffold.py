"""``sentinel plugin new``: write a plugin distribution from the bundled template."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import keyword
import re
import string
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from sentinel.core._errors import SentinelError
from sentinel.core._version import CORE_API_VERSION

TEMPLATE_SUFFIX = ".tmpl"
PACKAGE_PLACEHOLDER = "__package__"

# Plugin ids are entry-point names that users type in SENTINEL_DISABLE_PLUGINS
# and config files: keep them to lowercase words joined by hyphens.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")


class ScaffoldError(SentinelError):
    """A plugin name or target folder that a new plugin cannot be written with."""


@dataclass(frozen=True, slots=True)
class PluginNames:
    """The names of one new plugin: its id, distribution and import package."""

    plugin_id: str
    distribution: str
    package: str

    @classmethod
    def from_name(cls, name: str) -> PluginNames:
        """Derive every name from ``name``, such as ``acme-reports``."""
        plugin_id = name.strip().lower().removeprefix("sentinel-").replace("_", "-")
        if not NAME_PATTERN.fullmatch(plugin_id):
            raise ScaffoldError(
                f"plugin name {name!r} is invalid: expected lowercase letters, "
                "digits and single hyphens, starting with a letter, such as "
                "'acme-reports'"
            )
        package = "sentinel_" + plugin_id.replace("-", "_")
        if keyword.iskeyword(package):
            raise ScaffoldError(f"plugin name {name!r} is a Python keyword")
        return cls(plugin_id, f"sentinel-{plugin_id}", package)


def template_root() -> Traversable:
    """Return the folder of the bundled plugin template."""
    return importlib.resources.files("sentinel.core").joinpath("templates", "plugin")


def render_plugin(
    names: PluginNames, destination: Path, *, description: str = ""
) -> list[Path]:
    """Write the plugin distribution into ``destination``; return the files written.

    ``destination`` must not exist or be an empty folder, so an existing
    project is never overwritten.
    """
    if destination.exists() and any(destination.iterdir()):
        raise ScaffoldError(
            f"{destination} already exists and is not empty; choose another "
            "folder with --directory or remove it"
        )
    values = {
        "plugin_id": names.plugin_id,
        "distribution": names.distribution,
        "package": names.package,
        "description": description or f"The {names.plugin_id} plugin for sentinel.",
        "core_version": _core_version(),
        "api_range": api_range(),
    }
    written = []
    for relative, source in _template_files(template_root(), ()):
        parts = [names.package if p == PACKAGE_PLACEHOLDER else p for p in relative]
        target = destination.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = string.Template(source.read_text("utf-8")).substitute(values)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return sorted(written)


def _template_files(
    folder: Traversable, prefix: tuple[str, ...]
) -> list[tuple[tuple[str, ...], Traversable]]:
    files = []
    for item in folder.iterdir():
        if item.is_dir():
            if item.name == "__pycache__":
                continue
            files.extend(_template_files(item, (*prefix, item.name)))
        elif item.name.endswith(TEMPLATE_SUFFIX):
            files.append(((*prefix, item.name.removesuffix(TEMPLATE_SUFFIX)), item))
    return files


def api_range() -> str:
    """Return the API range a new plugin declares: this core's major version."""
    major = int(CORE_API_VERSION.split(".")[0])
    return f">={major}.0,<{major + 1}"


def _core_version() -> str:
    try:
        return importlib.metadata.version("sentinel-core")
    except importlib.metadata.PackageNotFoundError:
        return "0.1.0"
