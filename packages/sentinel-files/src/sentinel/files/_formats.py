"""File classes by format name, from the built-ins or a plugin registry."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sentinel.core import FILE_FORMAT, SentinelError
from sentinel.files._base import DataFile
from sentinel.files._csv import CsvFile, TsvFile
from sentinel.files._detect import detect
from sentinel.files._errors import UnsupportedFormatError
from sentinel.files._json import JsonFile
from sentinel.files._xlsx import XlsmFile, XlsxFile
from sentinel.files._xml import XmlFile
from sentinel.files._yaml import YamlFile

logger = logging.getLogger(__name__)

FILE_CLASSES: dict[str, type[DataFile]] = {
    "csv": CsvFile,
    "json": JsonFile,
    "tsv": TsvFile,
    "xlsm": XlsmFile,
    "xlsx": XlsxFile,
    "xml": XmlFile,
    "yaml": YamlFile,
}


def load_file(
    path: str | Path,
    classes: Mapping[str, type[DataFile]] | None = None,
    **options: Any,
) -> DataFile:
    """Detect the format of ``path`` and load it with the matching file class.

    ``classes`` maps format names to file classes, for example from
    :func:`classes_from_registry`; it defaults to the built-in ones. A class
    that a plugin adds is found by its ``extensions`` and ``sniff``.
    ``options`` are reading options such as ``numbers="flag"`` (JSON) or
    ``na_values=["NA"]`` (CSV); the chosen class gets those it lists in its
    ``options``, and a name that no class lists raises :class:`TypeError`.
    """
    classes = FILE_CLASSES if classes is None else classes
    known = {name for cls in classes.values() for name in getattr(cls, "options", ())}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(
            f"load_file() got reading options {', '.join(unknown)} that no file "
            f"class accepts; known options: {', '.join(sorted(known)) or 'none'}"
        )
    detection = detect(path, classes)
    found = classes.get(detection.format)
    if found is None:
        raise UnsupportedFormatError(
            f"{path}: no file class is registered for format {detection.format!r}",
            path=path,
            format=detection.format,
            hint="Install the plugin that provides this format.",
        )
    accepted = getattr(found, "options", ())
    return found.load(path, **{k: v for k, v in options.items() if k in accepted})


def classes_from_registry(registry: Any) -> dict[str, type[DataFile]]:
    """Return every ``file.format`` type of a plugin registry by name.

    A type that fails to import is left out with a warning, so one broken
    plugin does not stop the others' formats.
    """
    classes: dict[str, type[DataFile]] = {}
    for name in registry.names(FILE_FORMAT):
        try:
            classes[name] = registry.get(FILE_FORMAT, name)
        except SentinelError as exc:
            logger.warning("file format %r is not available: %s", name, exc)
    return classes


@functools.cache
def _process_classes() -> dict[str, type[DataFile]]:
    from sentinel.core import bootstrap

    try:
        host, _config = bootstrap()
    except SentinelError as exc:
        logger.warning("plugins not loaded, using the built-in formats: %s", exc)
        return dict(FILE_CLASSES)
    return classes_from_registry(host.registry)


def registered_classes(context: Any = None) -> dict[str, type[DataFile]]:
    """Return the file classes of a context's registry, else of this process.

    ``context`` may carry ``registry`` (a task context) or ``host`` (the
    CLI state).

    Without a registry on the context, the plugins are loaded once per
    process with :func:`sentinel.core.bootstrap`.
    """
    registry = getattr(context, "registry", None)
    if registry is None and getattr(context, "host", None) is not None:
        registry = context.host.registry
    if registry is not None:
        return classes_from_registry(registry)
    return _process_classes()
