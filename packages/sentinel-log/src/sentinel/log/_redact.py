"""Redaction of tokens, auth headers, passwords and configured secrets in text."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

# Configured secrets shorter than this are not replaced, because masking every
# occurrence of a two-letter string would garble the message without hiding
# anything an attacker could not guess.
MIN_SECRET_LENGTH = 4

# Suffixes of key names whose values are secrets; "token" also covers
# access_token, auth_token and SLACK_TOKEN.
_KEY_NAMES = r"password|passwd|pwd|secret|token|api[_-]?key|apikey|private[_-]?key"

# Every repeat in these patterns is bounded or anchored on a literal, so the
# time to redact stays linear in the text length even for hostile input.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Slack bot, user, app and refresh tokens.
    (re.compile(r"\bx(?:ox[abposre]|app)-[A-Za-z0-9-]+"), MASK),
    # The credential after an Authorization header name, with or without a scheme.
    (
        re.compile(
            r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?"
            r"(?:(?:bearer|basic|digest|token)\s+)?)[^\s\"',;]+"
        ),
        rf"\1{MASK}",
    ),
    # A bearer credential anywhere else, as in "sent Bearer abc123".
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{MASK}"),
    # key=value and "key": "value" pairs whose key ends in a secret's name,
    # such as password=x, SLACK_TOKEN=x or {"client_secret": "x"}.
    (
        re.compile(
            rf"(?i)({_KEY_NAMES})([\"']?\s*[:=]\s*[\"']?)"
            r"([^\s\"'&,;)}\]]+)"
        ),
        rf"\1\2{MASK}",
    ),
    # The password in a URL such as redis://user:password@host.
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,31}://[^/\s:@]{0,256}:)[^@\s/]{1,256}@"),
        rf"\1{MASK}@",
    ),
)


class Redactor:
    """Replace credentials and configured secret values in text with ``***``.

    Known shapes (Slack tokens, Authorization credentials, ``password=`` style
    pairs, passwords in URLs) are matched by pattern. Every configured secret
    value is replaced wherever it appears. Longer secrets go first, so a
    secret that contains another one is masked whole.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Add secret values to mask; values too short to mask safely are skipped."""
        known = set(self._secrets)
        known.update(
            value
            for value in secrets
            if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH
        )
        self._secrets = tuple(sorted(known, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        """Return ``text`` with every secret and credential masked."""
        # Literal secrets go first: a pattern could mask only part of one and
        # leave the rest of the secret readable.
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text
