"""Credentials and ports of URLs in config values, found without a full parse."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

REDACTED = "***"

# Schemes whose authority lists several comma-separated hosts, such as
# redis+sentinel://h1:26379,h2:26379/mymaster.
MULTI_HOST_SCHEMES = frozenset({"redis+sentinel", "sentinel"})

# A query parameter whose name contains one of these words carries a secret,
# as in ?password=..., ?ssl_password=... or ?access_token=....
_SECRET_PARAMETER = re.compile(
    r"(?P<name>[?&][^=&#]*(?:password|passwd|secret|token)[^=&#]*=)(?P<value>[^&#]*)",
    re.IGNORECASE,
)


def _split_userinfo(value: str) -> tuple[str, str, str] | None:
    """Split ``value`` into scheme, user information and the text after it.

    The user information ends at the last ``@``, so a password that contains
    ``/``, ``?``, ``#`` or ``@`` stays whole. Returns None without ``@``.
    """
    scheme, separator, rest = value.partition("://")
    if not separator or "@" not in rest:
        return None
    userinfo, _, after = rest.rpartition("@")
    return scheme, userinfo, after


def url_secrets(value: str) -> list[str]:
    """Return the password and the secret query parameter values in a URL.

    Percent-encoded values are returned as written and decoded, so log
    redaction matches either form.
    """
    if "://" not in value:
        return []
    found = [match["value"] for match in _SECRET_PARAMETER.finditer(value)]
    parts = _split_userinfo(_SECRET_PARAMETER.sub(r"\g<name>", value))
    if parts is not None:
        _, colon, password = parts[1].partition(":")
        if colon:
            found.append(password)
    decoded = [unquote(secret) for secret in found]
    return [secret for secret in dict.fromkeys(found + decoded) if secret]


def redact_url(value: str) -> str:
    """Replace the password and secret query parameters of a URL with ``***``.

    Works on URLs that urllib rejects (a bad port, a bad IPv6 address) and on
    passwords that contain ``/``, ``?``, ``#`` or ``@``. A value without
    ``://`` is returned unchanged.
    """
    if "://" not in value:
        return value
    value = _SECRET_PARAMETER.sub(rf"\g<name>{REDACTED}", value)
    parts = _split_userinfo(value)
    if parts is None:
        return value
    scheme, userinfo, after = parts
    user, colon, password = userinfo.partition(":")
    if not colon or not password:
        return value
    return f"{scheme}://{user}:{REDACTED}@{after}"


def url_port_error(value: str) -> str | None:
    """Return why a port of ``value`` is invalid, or None when every port is valid.

    Each comma-separated host of a multi-host scheme is checked on its own.
    The message never contains the user information.
    """
    # Secret parameter values may contain "@", which would end the userinfo.
    value = _SECRET_PARAMETER.sub(r"\g<name>", value)
    scheme, _, rest = value.partition("://")
    parts = _split_userinfo(value)
    after = rest if parts is None else parts[2]
    authority = re.split(r"[/?#]", after, maxsplit=1)[0]
    hosts = authority.split(",") if scheme in MULTI_HOST_SCHEMES else [authority]
    for host in hosts:
        if len(hosts) > 1 and not host:
            return "an empty host in the comma-separated host list"
        try:
            # urllib parses the port only when it is read.
            _ = urlsplit(f"//{host}").port
        except ValueError as exc:
            return f"host {host!r}: {exc}"
    return None
