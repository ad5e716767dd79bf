"""Token storage for box_sdk_gen that keeps each token's expiry beside it.

``MemoryTokenStorage`` serves the threads of one process and
``RedisTokenStorage`` every process that reaches one Redis server. Both
implement the SDK's ``TokenStorage`` interface and add what a shared refresh
needs: the expiry of the stored token and a lock held while one caller
refreshes it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from box_sdk_gen.box.token_storage import TokenStorage
from box_sdk_gen.schemas.access_token import AccessToken

from sentinel.box._errors import BoxConfigError, BoxTokenError

logger = logging.getLogger(__name__)

# A refresh takes one token call with its retries; a holder that died frees
# the lock after this long.
DEFAULT_LOCK_SECONDS = 60.0
_LOCK_POLL = 0.02


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored token and the epoch second at which it expires (None: unknown)."""

    token: AccessToken
    expires_at: float | None

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        """Tell whether the token expires within ``seconds`` from now."""
        if self.expires_at is None:
            return False
        return self.expires_at - seconds <= (time.time() if now is None else now)


def expiry_of(token: AccessToken, now: float | None = None) -> float | None:
    """Return when ``token`` expires, from its ``expires_in`` and the clock."""
    if token.expires_in is None:
        return None
    return (time.time() if now is None else now) + float(token.expires_in)


class ExpiringTokenStorage(TokenStorage):
    """A TokenStorage that also reports expiry and can lock out other refreshers."""

    def get(self) -> AccessToken | None:
        """Return the stored token, or None."""
        record = self.get_record()
        return None if record is None else record.token

    def store(self, token: AccessToken) -> None:
        """Store ``token`` with its expiry computed now."""
        self.store_record(TokenRecord(token, expiry_of(token)))

    def get_record(self) -> TokenRecord | None:
        """Return the stored token with its expiry, or None."""
        raise NotImplementedError

    def store_record(self, record: TokenRecord) -> None:
        """Store a token with its expiry."""
        raise NotImplementedError

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        """Hold the lock that lets one caller at a time refresh the token."""
        raise NotImplementedError
        yield  # type: ignore[unreachable]


class MemoryTokenStorage(ExpiringTokenStorage):
    """Keeps the token in this process; the lock is a threading lock."""

    def __init__(self, token: AccessToken | None = None) -> None:
        self._record = None if token is None else TokenRecord(token, expiry_of(token))
        self._lock = threading.Lock()

    def get_record(self) -> TokenRecord | None:
        """Return the stored token with its expiry, or None."""
        return self._record

    def store_record(self, record: TokenRecord) -> None:
        """Store a token with its expiry."""
        self._record = record

    def clear(self) -> None:
        """Forget the token."""
        self._record = None

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        """Hold the in-process refresh lock."""
        with self._lock:
            yield


class Cipher:
    """Fernet encryption of stored tokens with a key from an environment variable."""

    def __init__(self, key: str | bytes, name: str = "key") -> None:
        from cryptography.fernet import Fernet

        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as error:
            raise BoxConfigError(
                f"{name} is not a Fernet key; generate one with "
                "'python -c \"from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())\"'"
            ) from error

    @classmethod
    def from_env(cls, variable: str) -> Cipher:
        """Build a cipher from the key in environment variable ``variable``."""
        key = os.environ.get(variable)
        if not key:
            raise BoxConfigError(
                f"box.token_store.encryption_key_env names {variable!r}, but that "
                "environment variable is not set; export the Fernet key in it"
            )
        return cls(key, f"the value of {variable}")

    def encrypt(self, text: str) -> str:
        """Return ``text`` encrypted and authenticated, as ASCII."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, text: str) -> str:
        """Return the plain text of a value that ``encrypt`` produced."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(text.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as error:
            raise BoxTokenError(
                "the stored Box token cannot be decrypted with the configured key; "
                "the key changed or the value is not encrypted"
            ) from error


# Deletes the lock only if it still holds this holder's value, so a holder
# whose lock expired never frees the next holder's lock.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisTokenStorage(ExpiringTokenStorage):
    """Keeps one token in Redis under ``key``, optionally encrypted.

    The value is JSON holding the token and its expiry, so every process
    reads both at once. A token without a refresh token expires from Redis
    with itself; one with a refresh token stays, since the refresh token
    outlives it. The refresh lock is ``key + ":lock"``.
    """

    def __init__(
        self,
        client: Any,
        key: str,
        *,
        cipher: Cipher | None = None,
        lock_seconds: float = DEFAULT_LOCK_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.key = key
        self.lock_key = f"{key}:lock"
        self._cipher = cipher
        self._lock_seconds = lock_seconds
        self._clock = clock
        self._release = client.register_script(_RELEASE_SCRIPT)

    def get_record(self) -> TokenRecord | None:
        """Return the stored token with its expiry, or None."""
        raw = self._client.get(self.key)
        if raw is None:
            return None
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        if self._cipher is not None:
            text = self._cipher.decrypt(text)
        try:
            data = json.loads(text)
            token = AccessToken.from_dict(data["token"])
        except (ValueError, KeyError, TypeError) as error:
            raise BoxTokenError(
                f"the Box token stored at {self.key!r} is not readable: {error}; "
                "delete the key to fetch a new token"
            ) from error
        expires_at = data.get("expires_at")
        return TokenRecord(token, None if expires_at is None else float(expires_at))

    def store_record(self, record: TokenRecord) -> None:
        """Store a token with its expiry."""
        text = json.dumps(
            {"token": record.token.to_dict(), "expires_at": record.expires_at}
        )
        if self._cipher is not None:
            text = self._cipher.encrypt(text)
        ttl = None
        if record.expires_at is not None and not record.token.refresh_token:
            ttl = max(1, int(record.expires_at - self._clock()))
        self._client.set(self.key, text, ex=ttl)

    def clear(self) -> None:
        """Delete the stored token."""
        self._client.delete(self.key)

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        """Hold the shared refresh lock; wait for it while another holds it."""
        holder = secrets.token_hex(16)
        millis = max(1, int(self._lock_seconds * 1000))
        deadline = time.monotonic() + self._lock_seconds * 2
        while not self._client.set(self.lock_key, holder, nx=True, px=millis):
            if time.monotonic() > deadline:
                raise BoxTokenError(
                    f"the Box token refresh lock {self.lock_key!r} stayed taken for "
                    f"{self._lock_seconds * 2:g} s; another process may be stuck "
                    "refreshing, or delete the key"
                )
            time.sleep(_LOCK_POLL)
        try:
            yield
        finally:
            self._release(keys=[self.lock_key], args=[holder])
