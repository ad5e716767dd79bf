"""Removal of configured secret values from text the web API sends."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sentinel.core import Config, Field

REDACTED = "***"

# Keys whose values count as secrets even when no schema marks them; the same
# rule the core applies when it prints the config.
_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|api_?key|private|credential)", re.IGNORECASE
)

# Shorter values would match ordinary words and numbers in unrelated output.
_MIN_SECRET_LENGTH = 4


class Redactor:
    """Replace every known secret value in outgoing text with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        unique = {secret for secret in secrets if len(secret) >= _MIN_SECRET_LENGTH}
        self._secrets = sorted(unique, key=len, reverse=True)

    @classmethod
    def from_config(cls, config: Config) -> Redactor:
        """Build a redactor for the schema secrets and secret keys of ``config``."""
        return cls(_secret_values(config.values, config.sections, ()))

    def __len__(self) -> int:
        return len(self._secrets)

    def text(self, text: str) -> str:
        """Return ``text`` with each secret, raw or JSON-escaped, replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
            escaped = json.dumps(secret)[1:-1]
            if escaped != secret:
                text = text.replace(escaped, REDACTED)
        return text


def _secret_values(
    node: Any, sections: Mapping[str, Any], path: tuple[str, ...]
) -> list[str]:
    if isinstance(node, Mapping):
        found = []
        for key, value in node.items():
            found.extend(_secret_values(value, sections, (*path, str(key))))
        return found
    if isinstance(node, list):
        found = []
        for index, item in enumerate(node):
            found.extend(_secret_values(item, sections, (*path, str(index))))
        return found
    if isinstance(node, str) and node and _is_secret(path, sections):
        return [node]
    return []


def _is_secret(path: tuple[str, ...], sections: Mapping[str, Any]) -> bool:
    if any(_SECRET_KEY.search(part) for part in path):
        return True
    spec = _field(path, sections)
    return spec is not None and spec.secret


def _field(path: tuple[str, ...], sections: Mapping[str, Any]) -> Field | None:
    if not path or path[0] not in sections:
        return None
    fields: Mapping[str, Field] = sections[path[0]].fields
    spec: Field | None = None
    for part in path[1:]:
        spec = fields.get(part)
        if spec is None:
            return None
        fields = spec.fields
    return spec
