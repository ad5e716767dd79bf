"""Access tokens and the OAuth 2.0 token endpoint of the Box emulator."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import threading
from collections.abc import Collection, Mapping
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

TOKEN_LIFETIME = 3600
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class OAuthError(Exception):
    """An OAuth request the emulator rejects, rendered in Box's OAuth shape."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


class TokenPolicy:
    """Which bearer tokens and client credentials the emulator accepts.

    With ``tokens`` left as None any non-empty bearer token is accepted, which
    is how the emulator stands in for a developer token. Given a collection,
    only those tokens and the ones the token endpoint issued are accepted.
    ``clients`` maps client ids to secrets in the same way.
    """

    def __init__(
        self,
        tokens: Collection[str] | None = None,
        clients: Mapping[str, str] | None = None,
    ) -> None:
        self._tokens = None if tokens is None else set(tokens)
        self._clients = None if clients is None else dict(clients)
        self._issued: set[str] = set()
        self._refresh: set[str] = set()
        self._lock = threading.Lock()

    def accepts(self, token: str) -> bool:
        """Tell whether an API request may use bearer ``token``."""
        if not token:
            return False
        with self._lock:
            if token in self._issued:
                return True
            return self._tokens is None or token in self._tokens

    def check_client(self, client_id: str, client_secret: str) -> None:
        """Raise an OAuth error unless the client credentials are valid."""
        if not client_id or not client_secret:
            raise OAuthError(
                400, "invalid_request", "client_id and client_secret are required"
            )
        if self._clients is not None and self._clients.get(client_id) != client_secret:
            raise OAuthError(
                400, "invalid_client", "The client credentials are invalid"
            )

    def issue(self, *, refreshable: bool) -> dict[str, Any]:
        """Create an access token (and a refresh token) and return Box's response."""
        access = secrets.token_urlsafe(24)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": TOKEN_LIFETIME,
            "token_type": "bearer",
            "restricted_to": [],
        }
        with self._lock:
            self._issued.add(access)
            if refreshable:
                refresh = secrets.token_urlsafe(24)
                self._refresh.add(refresh)
                body["refresh_token"] = refresh
        return body

    def use_refresh_token(self, token: str) -> None:
        """Consume a refresh token, raising an OAuth error when it is unknown."""
        with self._lock:
            known = token in self._refresh or (self._tokens is None and bool(token))
            self._refresh.discard(token)
        if not known:
            raise OAuthError(400, "invalid_grant", "Invalid refresh token")

    def revoke(self, token: str) -> None:
        """Forget an issued access or refresh token."""
        with self._lock:
            self._issued.discard(token)
            self._refresh.discard(token)
            if self._tokens is not None:
                self._tokens.discard(token)


def _check_assertion(assertion: str) -> None:
    # NOTE: the signature is not verified because the emulator has no public
    # key; it only checks that the assertion is a well-formed JWT.
    parts = assertion.split(".")
    if len(parts) != 3:
        raise OAuthError(400, "invalid_grant", "The assertion is not a JWT")
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError) as error:
        raise OAuthError(
            400, "invalid_grant", f"The JWT payload is invalid: {error}"
        ) from error
    if not isinstance(claims, dict) or "sub" not in claims:
        raise OAuthError(400, "invalid_grant", "The JWT payload has no 'sub' claim")


def grant_token(policy: TokenPolicy, form: Mapping[str, str]) -> dict[str, Any]:
    """Run one ``POST /oauth2/token`` request and return the token response."""
    grant_type = form.get("grant_type", "")
    if grant_type == "client_credentials":
        policy.check_client(form.get("client_id", ""), form.get("client_secret", ""))
        return policy.issue(refreshable=False)
    if grant_type == "refresh_token":
        policy.use_refresh_token(form.get("refresh_token", ""))
        return policy.issue(refreshable=True)
    if grant_type == JWT_GRANT:
        policy.check_client(form.get("client_id", ""), form.get("client_secret", ""))
        _check_assertion(form.get("assertion", ""))
        return policy.issue(refreshable=False)
    raise OAuthError(
        400,
        "unsupported_grant_type",
        f"Grant type {grant_type!r} is not supported; use client_credentials, "
        f"refresh_token or {JWT_GRANT}",
    )


def oauth_error_response(error: OAuthError) -> web.Response:
    """Render an OAuth error as Box does, with Box's error object keys added."""
    body = {
        "error": error.error,
        "error_description": error.description,
        "type": "error",
        "status": error.status,
        "code": error.error,
        "message": error.description,
        "context_info": None,
        "request_id": secrets.token_hex(8),
    }
    return web.json_response(body, status=error.status)


async def token_endpoint(request: web.Request) -> web.Response:
    """Handle ``POST /oauth2/token``."""
    policy: TokenPolicy = request.app[POLICY_KEY]
    form = await request.post()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        body = grant_token(policy, fields)
    except OAuthError as error:
        logger.info("token request rejected: %s", error.description)
        return oauth_error_response(error)
    logger.debug("issued a token for grant type %s", fields.get("grant_type"))
    return web.json_response(body)


async def revoke_endpoint(request: web.Request) -> web.Response:
    """Handle ``POST /oauth2/revoke``."""
    policy: TokenPolicy = request.app[POLICY_KEY]
    form = await request.post()
    token = form.get("token")
    if isinstance(token, str):
        policy.revoke(token)
    return web.Response(status=200)


def bearer_token(request: web.Request) -> str:
    """Return the bearer token of a request, or an empty string."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


POLICY_KEY = web.AppKey("policy", TokenPolicy)
