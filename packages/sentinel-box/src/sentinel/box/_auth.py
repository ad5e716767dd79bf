"""Authentication that shares one token across threads and processes.

``SharedAuth`` implements box_sdk_gen's ``Authentication`` on top of an
``ExpiringTokenStorage``. It renews a token shortly before it expires, and
when a request gets a 401 response it takes the storage's refresh lock, reads
the stored token again and asks Box for a new one only if the stored token
is still the one that failed. So N processes that see a 401 together make
one token call, and an OAuth 2.0 refresh token, which works once, is never
sent twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from box_sdk_gen import BoxAPIError, BoxSDKError
from box_sdk_gen.managers.authorization import (
    AuthorizationManager,
    RequestAccessTokenGrantType,
    RequestAccessTokenSubjectTokenType,
)
from box_sdk_gen.networking.auth import Authentication
from box_sdk_gen.networking.network import NetworkSession
from box_sdk_gen.schemas.access_token import AccessToken

from sentinel.box._errors import BoxTokenError
from sentinel.box._retry import RetryPolicy, retryable_status
from sentinel.box._tokens import ExpiringTokenStorage, TokenRecord

logger = logging.getLogger(__name__)

# Renew this long before the stored expiry, so no request leaves with a
# token that dies on the way.
DEFAULT_EXPIRY_MARGIN = 60.0


class Grant(Protocol):
    """One way to obtain a new access token from Box."""

    name: str

    def request(
        self, previous: AccessToken | None, network_session: NetworkSession
    ) -> AccessToken:
        """Ask Box for a new token; ``previous`` is the stored one, if any."""
        ...


class SdkGrant:
    """A grant done by one of the SDK's own authentications (CCG or JWT).

    Each call builds a new request, so a JWT grant signs a new assertion
    with a new id every time.
    """

    def __init__(self, name: str, auth: Any) -> None:
        self.name = name
        self._auth = auth

    def request(
        self, previous: AccessToken | None, network_session: NetworkSession
    ) -> AccessToken:
        """Ask Box for a new token through the SDK's authentication."""
        del previous
        token: AccessToken = self._auth.refresh_token(network_session=network_session)
        return token


class RefreshTokenGrant:
    """OAuth 2.0: trade the stored refresh token for a new access and refresh pair.

    ``initial`` is the refresh token from the config, used only when no token
    is stored yet (the first run after an authorization).
    """

    name = "refresh_token"

    def __init__(
        self, client_id: str, client_secret: str, initial: str | None = None
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._initial = initial

    def request(
        self, previous: AccessToken | None, network_session: NetworkSession
    ) -> AccessToken:
        """Spend the stored refresh token and return the new token pair."""
        refresh = previous.refresh_token if previous is not None else None
        refresh = refresh or self._initial
        if not refresh:
            raise BoxTokenError(
                "OAuth 2.0 needs a refresh token and none is stored; set "
                "box.auth.refresh_token to one from an authorization"
            )
        manager = AuthorizationManager(network_session=network_session)
        return manager.request_access_token(
            RequestAccessTokenGrantType.REFRESH_TOKEN,
            client_id=self._client_id,
            client_secret=self._client_secret,
            refresh_token=refresh,
        )


class SharedAuth(Authentication):
    """Box authentication with a shared token store and a locked refresh."""

    def __init__(
        self,
        grant: Grant,
        storage: ExpiringTokenStorage,
        *,
        policy: RetryPolicy | None = None,
        expiry_margin: float = DEFAULT_EXPIRY_MARGIN,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.grant = grant
        self.token_storage = storage
        self.policy = policy or RetryPolicy()
        self.expiry_margin = expiry_margin
        self._sleep = sleep
        self.token_calls = 0

    def retrieve_token(
        self, *, network_session: NetworkSession | None = None
    ) -> AccessToken:
        """Return the stored token, renewing it when absent or about to expire."""
        record = self.token_storage.get_record()
        if record is not None and not record.expires_within(self.expiry_margin):
            return record.token
        failed = None if record is None else record.token.access_token
        return self.refresh_after(failed, network_session=network_session)

    def refresh_token(
        self, *, network_session: NetworkSession | None = None
    ) -> AccessToken:
        """Replace the stored token, unless another caller already did."""
        current = self.token_storage.get()
        failed = None if current is None else current.access_token
        return self.refresh_after(failed, network_session=network_session)

    def refresh_after(
        self, failed: str | None, *, network_session: NetworkSession | None = None
    ) -> AccessToken:
        """Get a token other than ``failed``, making a token call only if needed.

        Under the storage's lock the stored token is read again: if it is no
        longer ``failed`` and not about to expire, another thread or process
        refreshed it already and it is returned without a call.
        """
        session = network_session or NetworkSession()
        with self.token_storage.refresh_lock():
            record = self.token_storage.get_record()
            if _fresh_other(record, failed, self.expiry_margin):
                assert record is not None
                logger.debug("%s: token already refreshed elsewhere", self.grant.name)
                return record.token
            previous = None if record is None else record.token
            token = self._request(previous, session)
            self.token_storage.store(token)
            return token

    def _request(
        self, previous: AccessToken | None, session: NetworkSession
    ) -> AccessToken:
        attempt = 0
        while True:
            attempt += 1
            try:
                token = self.grant.request(previous, session)
            except BoxSDKError as error:
                status, retry_after = _status(error)
                if not retryable_status(status) or attempt >= self.policy.max_attempts:
                    raise
                delay = self.policy.delay(attempt, retry_after)
                logger.info(
                    "%s: token request got %s on attempt %d, retrying in %.2f s",
                    self.grant.name,
                    status or "no response",
                    attempt,
                    delay,
                )
                self._sleep(delay)
                continue
            self.token_calls += 1
            logger.info("%s: obtained a new Box access token", self.grant.name)
            return token

    def retrieve_authorization_header(
        self, *, network_session: NetworkSession | None = None
    ) -> str:
        """Return ``Bearer TOKEN`` for the current token."""
        token = self.retrieve_token(network_session=network_session)
        return f"Bearer {token.access_token}"

    def revoke_token(self, *, network_session: NetworkSession | None = None) -> None:
        """Forget the stored token; Box expires it on its own."""
        del network_session
        self.token_storage.clear()

    def downscope_token(
        self,
        scopes: list[str],
        *,
        resource: str | None = None,
        shared_link: str | None = None,
        network_session: NetworkSession | None = None,
    ) -> AccessToken:
        """Exchange the current token for one limited to ``scopes``."""
        token = self.retrieve_token(network_session=network_session)
        manager = AuthorizationManager(
            network_session=network_session or NetworkSession()
        )
        return manager.request_access_token(
            RequestAccessTokenGrantType.URN_IETF_PARAMS_OAUTH_GRANT_TYPE_TOKEN_EXCHANGE,
            subject_token=token.access_token,
            subject_token_type=_ACCESS_TOKEN_TYPE,
            resource=resource,
            scope=" ".join(scopes),
            box_shared_link=shared_link,
        )


def _fresh_other(record: TokenRecord | None, failed: str | None, margin: float) -> bool:
    if record is None or record.expires_within(margin):
        return False
    return failed is None or record.token.access_token != failed


def _status(error: BoxSDKError) -> tuple[int, str | None]:
    if isinstance(error, BoxAPIError):
        info = error.response_info
        headers = {key.lower(): value for key, value in (info.headers or {}).items()}
        return info.status_code, headers.get("retry-after")
    # No response at all: a refused or dropped connection, or a timeout.
    return (0, None) if error.error is not None else (-1, None)


_TOKEN_TYPES = RequestAccessTokenSubjectTokenType
_ACCESS_TOKEN_TYPE = _TOKEN_TYPES.URN_IETF_PARAMS_OAUTH_TOKEN_TYPE_ACCESS_TOKEN
