"""Import of ``"package.module:attribute"`` targets with install hints."""

from __future__ import annotations

import importlib
from typing import Any

from sentinel.core._errors import ImportTargetError, MissingDependencyError

# The bundled plugins are installed as extras of sentinel-core; a missing one
# is reported with the extra that installs it.
BUNDLED_EXTRAS = {
    "sentinel.files": "files",
    "sentinel.queue": "queue",
    "sentinel.box": "box",
    "sentinel.web": "web",
    "sentinel.log": "log",
}


def import_target(target: str) -> Any:
    """Import ``"package.module:attribute"`` and return the attribute.

    The attribute part may be dotted (``"module:Class.method"``). Raises
    :class:`MissingDependencyError` naming what to install when the module or
    one of its imports is missing.
    """
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ImportTargetError(
            f"invalid import target {target!r}: expected 'package.module:attribute'"
        )
    try:
        value: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(
            _install_hint(target, exc.name or module_name)
        ) from exc
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ImportTargetError(
                f"import target {target!r}: module {module_name!r} has no attribute "
                f"{attribute!r}; check the spelling or upgrade the distribution "
                f"that provides it"
            ) from None
    return value


def _install_hint(target: str, missing: str) -> str:
    for prefix, extra in BUNDLED_EXTRAS.items():
        if missing == prefix or missing.startswith(prefix + "."):
            distribution = prefix.replace(".", "-")
            return (
                f"cannot import {target!r}: {distribution} is not installed; "
                f"install it with pip install 'sentinel-core[{extra}]'"
            )
    top = missing.split(".", maxsplit=1)[0]
    return (
        f"cannot import {target!r}: module {missing!r} is not installed; install "
        f"the distribution that provides {top!r} (for example: pip install {top})"
    )
