"""One YAML file with a ``default`` section and one section per environment."""

from __future__ import annotations

import copy
import logging
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentinel.core._errors import ConfigError
from sentinel.core._names import CONFIG_ENV
from sentinel.core._types import ConfigSection, Field
from sentinel.core._urls import REDACTED, redact_url, url_port_error, url_secrets

if TYPE_CHECKING:
    import yaml

logger = logging.getLogger(__name__)

OVERRIDE_PREFIX = "SENTINEL__"
DEFAULT_FILE_NAMES = ("sentinel.yaml", "sentinel.yml")
DEFAULT_SECTION = "default"

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Keys whose values are treated as secrets even when no schema marks them.
_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|api_?key|private|credential)", re.I
)

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
    "section": "a mapping",
}


@dataclass(frozen=True, slots=True)
class Origin:
    """Source file, line and environment section of a config value."""

    source: str
    line: int | None = None
    section: str | None = None

    def describe(self) -> str:
        """Render the origin as ``file:line, environment 'x'``."""
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if self.section is not None:
            where += f", environment section {self.section!r}"
        return where


class Config:
    """The merged configuration of one environment, with where each value came from."""

    def __init__(
        self,
        values: dict[str, Any],
        *,
        path: Path | None,
        env: str | None,
        origins: dict[tuple[str, ...], Origin],
        templates: dict[tuple[str, ...], str],
        sections: Sequence[ConfigSection] = (),
    ) -> None:
        self.values = values
        self.path = path
        self.env = env
        self.origins = origins
        self.templates = templates
        self.sections = {section.name: section for section in sections}
        self.strict = False
        self.report_unknown = True

    def section(self, name: str) -> dict[str, Any]:
        """Return the values of one top-level section, empty when absent."""
        value = self.values.get(name)
        if isinstance(value, dict):
            return value
        return {}

    def get(self, dotted: str, default: Any = None) -> Any:
        """Return the value at a dotted key such as ``"queue.url"``."""
        node: Any = self.values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def redacted(self) -> dict[str, Any]:
        """Return a copy safe to print: secrets hidden, ``${NAME}`` shown as written."""
        redacted: dict[str, Any] = self._redact(self.values, ())
        return redacted

    def _redact(
        self, node: Any, path: tuple[str, ...], *, templates: bool = True
    ) -> Any:
        """Hide secrets in ``node``. With ``templates``, show ``${NAME}`` as written."""
        if templates and path in self.templates:
            return self.templates[path]
        if isinstance(node, dict):
            return {
                key: self._redact(value, (*path, str(key)), templates=templates)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [
                self._redact(item, (*path, str(i)), templates=templates)
                for i, item in enumerate(node)
            ]
        if node not in (None, "") and self._is_secret(path):
            return REDACTED
        if isinstance(node, str):
            return redact_url(node)
        return node

    def secret_values(self) -> list[str]:
        """Return every non-empty secret value, for log redaction."""
        found: list[str] = []
        self._collect_secrets(self.values, (), found)
        return found

    def _collect_secrets(
        self, node: Any, path: tuple[str, ...], found: list[str]
    ) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                self._collect_secrets(value, (*path, str(key)), found)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                self._collect_secrets(item, (*path, str(index)), found)
        elif isinstance(node, str) and node and self._is_secret(path):
            found.append(node)
        elif isinstance(node, str):
            found.extend(url_secrets(node))

    def _is_secret(self, path: tuple[str, ...]) -> bool:
        spec = self._field(path)
        if spec is not None:
            # A declared field says itself whether it is secret, so keys such as
            # box.token_store.backend are not hidden for the word "token".
            return spec.secret
        # An undeclared key is judged by its own name; list items by their list's.
        names = [part for part in path if not part.isdigit()]
        return bool(names) and _SECRET_KEY.search(names[-1]) is not None

    def _field(self, path: tuple[str, ...]) -> Field | None:
        if not path or path[0] not in self.sections:
            return None
        fields = self.sections[path[0]].fields
        spec: Field | None = None
        for part in path[1:]:
            spec = fields.get(part)
            if spec is None:
                return None
            fields = spec.fields
        return spec


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the config file: the argument, ``$SENTINEL_CONFIG`` or ./sentinel.yaml."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    for name in DEFAULT_FILE_NAMES:
        candidate = Path(name)
        if candidate.is_file():
            return candidate
    return None


def load_config(
    path: str | os.PathLike[str] | None = None,
    env: str | None = None,
    sections: Sequence[ConfigSection] = (),
    environ: Mapping[str, str] | None = None,
    *,
    strict: bool = False,
    report_unknown: bool = True,
    other_sections: Sequence[str] = (),
) -> Config:
    """Load, merge and validate the configuration for environment ``env``.

    Layers, later ones winning: the defaults of ``sections``, the file's
    ``default`` section, the file's ``env`` section, then single keys from
    ``SENTINEL__SECTION__KEY`` environment variables. ``${NAME}`` (or
    ``${NAME:-fallback}``) in a string is replaced by that environment variable.

    Keys and top-level sections that no schema describes are logged as
    warnings naming the file and line (``report_unknown``), or raise
    :class:`ConfigError` with ``strict``. ``other_sections`` names sections
    that are known but not validated, such as those of disabled plugins.
    """
    environ = os.environ if environ is None else environ
    file_path = Path(path) if path is not None else None
    origins: dict[tuple[str, ...], Origin] = {}
    values: dict[str, Any] = {section.name: section.defaults() for section in sections}
    _record_origins(values, (), Origin("built-in defaults"), origins)

    if file_path is not None:
        document, lines = _read_file(file_path)
        _check_env_known(document, env, file_path)
        for section_name in (DEFAULT_SECTION, env):
            if section_name is None or section_name not in document:
                continue
            layer = document[section_name]
            if layer is None:
                continue
            if not isinstance(layer, dict):
                raise ConfigError(
                    f"{file_path}:{lines.get((section_name,), '?')}: environment "
                    f"section {section_name!r} must be a mapping, "
                    f"got {type(layer).__name__}"
                )
            _merge(
                values,
                layer,
                (),
                origins,
                _origin_factory(str(file_path), lines, section_name),
            )
    elif env not in (None, DEFAULT_SECTION):
        raise ConfigError(
            f"environment {env!r} was requested but no config file was found; pass "
            f"--config FILE, set {CONFIG_ENV}, or create ./sentinel.yaml"
        )

    _apply_overrides(values, environ, origins)
    templates = _substitute(values, (), environ, origins)
    config = Config(
        values,
        path=file_path,
        env=env,
        origins=origins,
        templates=templates,
        sections=sections,
    )
    config.strict = strict
    config.report_unknown = report_unknown
    for section in sections:
        _validate(values.get(section.name), section.fields, (section.name,), config)
    if report_unknown:
        known = sorted({section.name for section in sections} | set(other_sections))
        for name in values:
            if name not in known:
                _unknown((str(name),), known, config, what="top-level config section")
    return config


def _origin_factory(
    source: str, lines: dict[tuple[str, ...], int], section: str
) -> Callable[[tuple[str, ...]], Origin]:
    def origin_of(key: tuple[str, ...]) -> Origin:
        return Origin(source, lines.get((section, *key)), section)

    return origin_of


def _read_file(path: Path) -> tuple[dict[str, Any], dict[tuple[str, ...], int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found; check --config or {CONFIG_ENV}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    # PyYAML is imported only when a file is read, to keep start-up short.
    import yaml

    loader = yaml.SafeLoader(text)
    # Marks name the file in error messages instead of "<unicode string>".
    loader.name = str(path)
    try:
        node = loader.get_single_node()
        if node is not None:
            # Check before construction, because construction copies the keys
            # of a merge key (<<) into the mapping, where an own key may
            # override them on purpose.
            _reject_duplicate_keys(node, path)
            _reject_alias_expansion(node, path)
        document = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as exc:
        # The marks' snippets would print the line, which may hold a secret.
        # The line and column numbers stay in the message.
        for mark in (exc.context_mark, exc.problem_mark):
            if mark is not None:
                mark.buffer = None
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"config file {path} must be a mapping of environment sections "
            f"('default', 'dev', 'prod', ...), got {type(document).__name__}"
        )
    lines: dict[tuple[str, ...], int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    return document, lines


# Values a config file may hold once its aliases are expanded.
MAX_CONFIG_VALUES = 100_000


def _reject_duplicate_keys(root: yaml.Node, path: Path) -> None:
    """Raise ConfigError at the first key that repeats within one mapping.

    PyYAML keeps the last value of a repeated key without a warning, so a
    setting written twice would silently override itself.
    """
    import yaml

    merge_tag = "tag:yaml.org,2002:merge"
    visited: set[int] = set()
    pending: list[yaml.Node] = [root]
    while pending:
        node = pending.pop()
        # An alias reuses its anchor's node, so each node is checked once.
        if id(node) in visited:
            continue
        visited.add(id(node))
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            first_lines: dict[str, int] = {}
            for key_node, value_node in node.value:
                children.append(value_node)
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                if key_node.tag == merge_tag:
                    continue
                line = key_node.start_mark.line + 1
                if key_node.value in first_lines:
                    raise ConfigError(
                        f"{path}:{line}: duplicate key {key_node.value!r}, first "
                        f"set on line {first_lines[key_node.value]}; keep one of them"
                    )
                first_lines[key_node.value] = line
        elif isinstance(node, yaml.SequenceNode):
            children.extend(node.value)
        # Reversed, so that the earliest duplicate in the file is reported.
        pending.extend(reversed(children))


def _reject_alias_expansion(root: yaml.Node, path: Path) -> None:
    """Raise ConfigError when aliases expand the file past ``MAX_CONFIG_VALUES``.

    Loading walks every value under each path that reaches it, so a file of
    nested aliases (a "billion laughs" file) would take exponential time,
    and an alias inside its own anchor would never end.
    """
    import yaml

    sizes: dict[int, int] = {}
    # Depth-first, children before parents: (node, whether its children
    # were pushed already).
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while pending:
        node, expanded = pending.pop()
        if id(node) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                children += (key_node, value_node)
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if expanded:
            open_nodes.discard(id(node))
            size = 1 + sum(sizes[id(child)] for child in children)
            if size > MAX_CONFIG_VALUES:
                raise ConfigError(
                    f"{path}:{node.start_mark.line + 1}: aliases expand the config "
                    f"past {MAX_CONFIG_VALUES:,} values; write the values out or "
                    f"use fewer nested aliases"
                )
            sizes[id(node)] = size
            continue
        if id(node) in open_nodes:
            raise ConfigError(
                f"{path}:{node.start_mark.line + 1}: an alias refers to a value "
                f"that contains it; a config cannot be recursive"
            )
        open_nodes.add(id(node))
        pending.append((node, True))
        pending.extend((child, False) for child in children if id(child) not in sizes)


def _collect_lines(
    node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int]
) -> None:
    import yaml

    # Each alias is walked again under its own path; _reject_alias_expansion
    # bounds the total before this runs.
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*path, str(key_node.value))
            lines[key] = key_node.start_mark.line + 1
            _collect_lines(value_node, key, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = (*path, str(index))
            lines[key] = item.start_mark.line + 1
            _collect_lines(item, key, lines)


def _check_env_known(document: dict[str, Any], env: str | None, path: Path) -> None:
    if env is None or env in document:
        return
    known = ", ".join(sorted(map(str, document))) or "none"
    raise ConfigError(
        f"environment {env!r} is not defined in {path} (sections: {known}); add a "
        f"top-level '{env}:' section or choose another --env"
    )


def _record_origins(
    node: Any,
    path: tuple[str, ...],
    origin: Origin,
    origins: dict[tuple[str, ...], Origin],
) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _record_origins(value, (*path, str(key)), origin, origins)
    else:
        origins[path] = origin


def _merge(
    target: dict[str, Any],
    layer: Mapping[str, Any],
    path: tuple[str, ...],
    origins: dict[tuple[str, ...], Origin],
    origin_of: Callable[[tuple[str, ...]], Origin],
) -> None:
    for key, value in layer.items():
        key_path = (*path, str(key))
        if isinstance(value, dict):
            # Merge even into a new mapping, so that every key of the layer
            # records its own line.
            if not isinstance(target.get(key), dict):
                target[key] = {}
                origins[key_path] = origin_of(key_path)
            _merge(target[key], value, key_path, origins, origin_of)
            continue
        target[key] = copy.deepcopy(value)
        _record_origins(value, key_path, origin_of(key_path), origins)
        origins[key_path] = origin_of(key_path)


def _apply_overrides(
    values: dict[str, Any],
    environ: Mapping[str, str],
    origins: dict[tuple[str, ...], Origin],
) -> None:
    for name in sorted(environ):
        if not name.startswith(OVERRIDE_PREFIX):
            continue
        parts = [
            part.lower() for part in name[len(OVERRIDE_PREFIX) :].split("__") if part
        ]
        if not parts:
            continue
        node = values
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = _parse_scalar(environ[name])
        origins[tuple(parts)] = Origin(f"environment variable {name}")


def _parse_scalar(text: str) -> Any:
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    # Only scalars and flow collections: a multi-line document is kept as text.
    return value if not isinstance(value, str) or "\n" not in text else text


def _substitute(
    node: Any,
    path: tuple[str, ...],
    environ: Mapping[str, str],
    origins: dict[tuple[str, ...], Origin],
) -> dict[tuple[str, ...], str]:
    templates: dict[tuple[str, ...], str] = {}
    if isinstance(node, dict):
        for key in list(node):
            value = node[key]
            key_path = (*path, str(key))
            if isinstance(value, str) and "${" in value:
                node[key] = _expand(value, key_path, environ, origins)
                templates[key_path] = value
            else:
                templates.update(_substitute(value, key_path, environ, origins))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            key_path = (*path, str(index))
            if isinstance(value, str) and "${" in value:
                node[index] = _expand(value, key_path, environ, origins)
                templates[key_path] = value
            else:
                templates.update(_substitute(value, key_path, environ, origins))
    return templates


def _expand(
    text: str,
    path: tuple[str, ...],
    environ: Mapping[str, str],
    origins: dict[tuple[str, ...], Origin],
) -> str:
    def replace(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if fallback is not None:
            return fallback
        where = _origin_for(path, origins).describe()
        raise ConfigError(
            f"{where}: key {'.'.join(path)!r} refers to environment variable "
            f"${{{name}}}, which is not set; export {name} or write "
            f"${{{name}:-default}}"
        )

    return _REFERENCE.sub(replace, text)


def _origin_for(
    path: tuple[str, ...], origins: dict[tuple[str, ...], Origin]
) -> Origin:
    for end in range(len(path), 0, -1):
        if path[:end] in origins:
            return origins[path[:end]]
    return Origin("built-in defaults")


def _validate(
    node: Any, fields: Mapping[str, Field], path: tuple[str, ...], config: Config
) -> None:
    if node is None:
        return
    if not isinstance(node, dict):
        _type_error(path, node, "a mapping", config)
    for key, spec in fields.items():
        if key in node:
            _validate_value(node[key], spec, (*path, key), config)
    for key in node:
        if key not in fields:
            _unknown((*path, str(key)), list(fields), config, what="config key")


def _unknown(
    key_path: tuple[str, ...], known: Sequence[str], config: Config, *, what: str
) -> None:
    if not config.report_unknown:
        return
    where = _origin_for(key_path, config.origins).describe()
    message = (
        f"{where}: unknown {what} {'.'.join(key_path)!r} "
        f"(known: {', '.join(known) or 'none'}); check its spelling"
    )
    if config.strict:
        raise ConfigError(f"{message} (strict mode is on)")
    logger.warning("%s", message)


def _validate_value(
    value: Any, spec: Field, path: tuple[str, ...], config: Config
) -> None:
    if value is None:
        if spec.nullable or spec.default is None:
            return
        _type_error(path, value, _expected_name(spec.type), config)
    if spec.type == "section":
        _validate(value, spec.fields, path, config)
        return
    expected = spec.type
    ok = isinstance(value, expected) if isinstance(expected, (type, tuple)) else True
    # bool is a subclass of int: reject true/false where a number is expected.
    if expected in (int, float) and isinstance(value, bool):
        ok = False
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        _type_error(path, value, _expected_name(expected), config)
    if spec.choices and value not in spec.choices:
        choices = ", ".join(map(str, spec.choices))
        _type_error(path, value, f"one of {choices}", config)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_number(value, spec, path, config)
    if isinstance(value, str) and spec.schemes:
        _check_url(value, spec, path, config)
    if expected is list and spec.fields:
        for index, item in enumerate(value):
            if isinstance(item, dict):
                _validate(item, spec.fields, (*path, str(index)), config)


def _expected_name(expected: Any) -> str:
    """Describe an expected field type, or a union of them, for messages."""
    if isinstance(expected, tuple):
        return " or ".join(_expected_name(item) for item in expected)
    return _TYPE_NAMES.get(expected, str(expected))


def _check_number(
    value: float, spec: Field, path: tuple[str, ...], config: Config
) -> None:
    if not math.isfinite(value):
        if not spec.allow_nonfinite:
            _type_error(path, value, "a finite number", config)
        return
    low, high = spec.minimum, spec.maximum
    if (low is None or value >= low) and (high is None or value <= high):
        return
    kind = _expected_name(spec.type)
    if low is not None and high is not None:
        expected = f"{kind} from {low} to {high}"
    elif low is not None:
        expected = f"{kind} >= {low}"
    else:
        expected = f"{kind} <= {high}"
    _type_error(path, value, expected, config)


def _check_url(value: str, spec: Field, path: tuple[str, ...], config: Config) -> None:
    scheme, separator, _ = value.partition("://")
    if not separator or scheme not in spec.schemes:
        forms = ", ".join(f"{name}://" for name in spec.schemes)
        _type_error(path, value, f"a URL that starts with one of {forms}", config)
    problem = url_port_error(value)
    if problem is not None:
        _type_error(path, value, f"a URL with a valid port ({problem})", config)


def _type_error(
    path: tuple[str, ...], value: Any, expected: str, config: Config
) -> None:
    where = _origin_for(path, config.origins).describe()
    # The value as loaded, not its ${NAME} template, with secrets hidden.
    shown = repr(config._redact(value, path, templates=False))
    raise ConfigError(
        f"{where}: key {'.'.join(path)!r} has value {shown} "
        f"({type(value).__name__}), expected {expected}"
    )
