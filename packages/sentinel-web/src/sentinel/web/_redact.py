"""Removal of configured secret values from text the web API sends."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sentinel.core import Config

REDACTED = "***"

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
        return cls(config.secret_values())

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
