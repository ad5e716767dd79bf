"""The ``box`` config section: its schema, defaults and a reader for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sentinel.core import ConfigSection, Field

# The emulator accepts any bearer token, so this one is a label, not a secret.
EMULATOR_TOKEN = "emulator-token"  # noqa: S105

AUTH_FIELDS = {
    "developer_token": Field(
        str,
        None,
        "A developer token; used before any other credential.",
        secret=True,
        nullable=True,
    ),
    "client_id": Field(
        str, None, "Client id of a Box app (CCG or JWT).", nullable=True
    ),
    "client_secret": Field(
        str, None, "Client secret of the Box app.", secret=True, nullable=True
    ),
    "enterprise_id": Field(
        str, None, "Enterprise to act as with client credentials (CCG).", nullable=True
    ),
    "user_id": Field(
        str, None, "User to act as with client credentials or JWT.", nullable=True
    ),
    "jwt_config_file": Field(
        str,
        None,
        "Path of the JSON app config that Box issues for JWT apps.",
        nullable=True,
    ),
    "refresh_token": Field(
        str,
        None,
        "OAuth 2.0: the refresh token of an authorization, used once to seed the "
        "token store; with client_id and client_secret.",
        secret=True,
        nullable=True,
    ),
}

RATE_LIMIT_FIELDS = {
    "enabled": Field(bool, True, "Pace requests so Box never answers 429."),
    "backend": Field(
        str,
        "auto",
        "Where the schedule lives: redis (shared by every process), memory (this "
        "process) or auto (redis when a Redis URL is known).",
        choices=("auto", "redis", "memory"),
    ),
    "redis_url": Field(
        str,
        None,
        "Redis for the shared schedule and token store; null uses queue.url.",
        nullable=True,
        secret=True,
    ),
    "key_prefix": Field(str, "sentinel:box", "Prefix of the Redis keys used."),
    "general": Field(
        str, "1000/min", "Limit of general requests per Box user.", nullable=True
    ),
    "upload": Field(str, "240/min", "Limit of uploads per Box user.", nullable=True),
    "search": Field(str, "6/s", "Limit of searches per Box user.", nullable=True),
    "enterprise_search": Field(
        str, "12/s", "Limit of searches of the whole enterprise.", nullable=True
    ),
    "burst": Field(int, 1, "Requests of one class that may leave back to back."),
}

TOKEN_STORE_FIELDS = {
    "backend": Field(
        str,
        "auto",
        "Where tokens live: redis (shared), memory, or auto (redis when a Redis "
        "URL is known).",
        choices=("auto", "redis", "memory"),
    ),
    "key": Field(
        str,
        None,
        "Redis key of the token; null derives one from the app and subject.",
        nullable=True,
    ),
    "encryption_key_env": Field(
        str,
        None,
        "Name of an environment variable holding a Fernet key that encrypts "
        "the stored token.",
        nullable=True,
    ),
    "lock_seconds": Field(
        float, 60.0, "How long a refresh may hold the lock before it frees itself."
    ),
    "expiry_margin": Field(
        float, 60.0, "Renew a token this many seconds before it expires."
    ),
}

EMULATOR_FIELDS = {
    "root": Field(
        str, ".sentinel/box", "Folder the emulator serves, relative to the work dir."
    ),
    "host": Field(str, "127.0.0.1", "Address the emulator binds to."),
    "port": Field(int, 0, "Port of the emulator; 0 picks a free port."),
}

BOX_SECTION = ConfigSection(
    name="box",
    help=(
        "Box access. With no credentials and no api_url, 'sentinel run' starts "
        "the local Box emulator and points the client at it."
    ),
    fields={
        "api_url": Field(
            str,
            None,
            "Base URL of the Box API; null means Box itself, or the emulator "
            "under 'sentinel run' when no credentials are set.",
            nullable=True,
        ),
        "upload_url": Field(
            str,
            None,
            "Base URL for uploads; null derives it from api_url.",
            nullable=True,
        ),
        "oauth_url": Field(
            str,
            None,
            "Base URL of OAuth 2.0 pages; null derives it from api_url.",
            nullable=True,
        ),
        "auth": Field("section", help="Box credentials.", fields=AUTH_FIELDS),
        "emulator": Field(
            "section", help="The local Box emulator.", fields=EMULATOR_FIELDS
        ),
        "timeout": Field(
            float, 60.0, "Connect and read timeout of each request, in seconds."
        ),
        "max_attempts": Field(
            int,
            5,
            "HTTP attempts per Box request, retries after 429 and 5xx answers "
            "included; the queue retries the whole task after that.",
        ),
        "retry_backoff": Field(
            float, 1.0, "First wait between attempts, doubled each retry, in s."
        ),
        "retry_max_delay": Field(float, 60.0, "Longest wait between attempts, in s."),
        "as_user": Field(
            str,
            None,
            "Act as this Box user id (As-User header); paced as that user.",
            nullable=True,
        ),
        "chunked_threshold": Field(
            int,
            20_000_000,
            "Files of this many bytes or more go up in parts through an upload "
            "session; Box accepts sessions from 20,000,000 bytes.",
        ),
        "on_conflict": Field(
            str,
            "overwrite",
            "When a file of the same name has other content: overwrite (upload "
            "a new version), rename (upload beside it under a new name) or skip.",
            choices=("overwrite", "rename", "skip"),
        ),
        "rate_limit": Field(
            "section", help="Pacing of requests.", fields=RATE_LIMIT_FIELDS
        ),
        "token_store": Field(
            "section", help="Where access tokens are kept.", fields=TOKEN_STORE_FIELDS
        ),
    },
)


def _merge(defaults: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in values.items():
        if isinstance(merged.get(key), dict) and isinstance(value, Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def box_settings(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the ``box`` section with every missing key set to its default."""
    return _merge(BOX_SECTION.defaults(), values or {})


def has_credentials(settings: Mapping[str, Any]) -> bool:
    """Tell whether the section names a developer token, an app or a JWT config."""
    auth = box_settings(settings)["auth"]
    return bool(
        auth["developer_token"]
        or auth["client_id"]
        or auth["jwt_config_file"]
        or auth["refresh_token"]
    )
