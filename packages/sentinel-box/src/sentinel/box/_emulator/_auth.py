"""Access tokens and the OAuth 2.0 endpoints of the Box emulator."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from sentinel.box._emulator._requests import facts

logger = logging.getLogger(__name__)

TOKEN_LIFETIME = 3600
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The SDK signs its assertions for Box's token URL, whatever its base URL is.
JWT_AUDIENCE = "https://api.box.com/oauth2/token"
DEFAULT_USER_ID = "10000001"
# The app's own user, whom enterprise JWT and CCG tokens act as.
SERVICE_USER_ID = "10000002"
_CODE_LIFETIME = 30.0
# Box rejects assertions whose expiry is more than a minute ahead.
_MAX_ASSERTION_LIFETIME = 60


class OAuthError(Exception):
    """An OAuth request the emulator rejects, rendered in Box's OAuth shape."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


@dataclass(slots=True)
class _Issued:
    user_id: str
    expires_at: float


class TokenPolicy:
    """Which bearer tokens and credentials the emulator accepts, and for whom.

    With ``tokens`` left as None any non-empty bearer token is accepted, which
    is how the emulator stands in for a developer token. Given a collection,
    only those tokens and the ones the token endpoint issued are accepted.
    ``clients`` maps client ids to secrets in the same way. Issued access
    tokens expire after ``lifetime`` seconds; refresh tokens work once and
    each use returns a new one; a JWT id (``jti``) works once.
    """

    def __init__(
        self,
        tokens: Collection[str] | None = None,
        clients: Mapping[str, str] | None = None,
        *,
        lifetime: float = TOKEN_LIFETIME,
        jwt_public_keys: Mapping[str, str] | None = None,
    ) -> None:
        self._tokens = None if tokens is None else set(tokens)
        self._clients = None if clients is None else dict(clients)
        self._jwt_keys = None if jwt_public_keys is None else dict(jwt_public_keys)
        self.lifetime = lifetime
        self._issued: dict[str, _Issued] = {}
        self._refresh: dict[str, str] = {}
        self._spent_refresh: set[str] = set()
        # Expired issued tokens stay rejected, even when any other token is accepted.
        self._expired: set[str] = set()
        self._codes: dict[str, tuple[str, float]] = {}
        self._jtis: dict[str, float] = {}
        self._lock = threading.Lock()

    def user_of(self, token: str) -> str | None:
        """Return the user an API token acts as, or None when it is rejected."""
        if not token:
            return None
        with self._lock:
            issued = self._issued.get(token)
            if issued is not None:
                if issued.expires_at > time.time():
                    return issued.user_id
                return None
            if token in self._expired:
                return None
            if self._tokens is None or token in self._tokens:
                return DEFAULT_USER_ID
            return None

    def accepts(self, token: str) -> bool:
        """Tell whether an API request may use bearer ``token``."""
        return self.user_of(token) is not None

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

    def issue(
        self, *, refreshable: bool, user_id: str = DEFAULT_USER_ID
    ) -> dict[str, Any]:
        """Create an access token (and a refresh token) and return Box's response."""
        access = secrets.token_urlsafe(24)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": int(self.lifetime),
            "token_type": "bearer",
            "restricted_to": [],
        }
        with self._lock:
            self._issued[access] = _Issued(user_id, time.time() + self.lifetime)
            if refreshable:
                refresh = secrets.token_urlsafe(24)
                self._refresh[refresh] = user_id
                body["refresh_token"] = refresh
        return body

    def use_refresh_token(self, token: str) -> str:
        """Spend a refresh token and return its user; it never works again."""
        with self._lock:
            user_id = self._refresh.pop(token, None)
            spent = token in self._spent_refresh
            # Like any developer token, an unknown refresh token is accepted once
            # unless a token list is configured, so a client can start from one.
            if user_id is None and not spent and token and self._tokens is None:
                user_id = DEFAULT_USER_ID
            if user_id is not None:
                self._spent_refresh.add(token)
                return user_id
        reason = "has already been used" if spent else "is unknown"
        raise OAuthError(400, "invalid_grant", f"Refresh token {reason}")

    def authorization_code(self, user_id: str = DEFAULT_USER_ID) -> str:
        """Create a single-use authorization code, as the consent screen would."""
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = (user_id, time.time() + _CODE_LIFETIME)
        return code

    def use_authorization_code(self, code: str) -> str:
        """Spend an authorization code and return its user."""
        with self._lock:
            entry = self._codes.pop(code, None)
        if entry is None or entry[1] < time.time():
            raise OAuthError(
                400,
                "invalid_grant",
                "Auth code doesn't exist or is invalid for the client",
            )
        return entry[0]

    def use_jwt_id(self, jti: str, expires_at: float) -> None:
        """Remember an assertion's id, rejecting one already used."""
        now = time.time()
        with self._lock:
            for known, until in list(self._jtis.items()):
                if until < now - _MAX_ASSERTION_LIFETIME:
                    del self._jtis[known]
            if jti in self._jtis:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    "Please check the 'jti' claim. A unique 'jti' value is required.",
                )
            self._jtis[jti] = expires_at

    def check_signature(self, assertion: str, key_id: str | None) -> None:
        """Verify an assertion's signature when public keys are configured."""
        if self._jwt_keys is None:
            return
        key = self._jwt_keys.get(key_id or "")
        if key is None:
            raise OAuthError(
                400,
                "invalid_grant",
                f"Please check the 'kid' header: no public key {key_id!r} is "
                "configured for this app",
            )
        import jwt

        try:
            jwt.decode(
                assertion,
                key,
                algorithms=["RS256", "RS384", "RS512"],
                audience=JWT_AUDIENCE,
            )
        except jwt.PyJWTError as error:
            raise OAuthError(
                400, "invalid_grant", f"The assertion is not valid: {error}"
            ) from error

    def expire_access_tokens(self) -> int:
        """Make every issued access token fail with 401; return how many."""
        with self._lock:
            count = len(self._issued)
            self._expired.update(self._issued)
            self._issued.clear()
        return count

    def revoke(self, token: str) -> None:
        """Forget an issued access or refresh token."""
        with self._lock:
            self._issued.pop(token, None)
            if self._refresh.pop(token, None) is not None:
                self._spent_refresh.add(token)
            if self._tokens is not None:
                self._tokens.discard(token)


def _jwt_part(text: str, what: str) -> dict[str, Any]:
    try:
        padded = text + "=" * (-len(text) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError) as error:
        raise OAuthError(
            400, "invalid_grant", f"The JWT {what} is invalid: {error}"
        ) from error
    if not isinstance(value, dict):
        raise OAuthError(400, "invalid_grant", f"The JWT {what} is not an object")
    return value


def _jwt_user(claims: Mapping[str, Any]) -> str:
    if claims.get("box_sub_type") == "user":
        return str(claims["sub"])
    return SERVICE_USER_ID


def _check_assertion(policy: TokenPolicy, assertion: str) -> str:
    """Check a JWT assertion the way Box does and return the user it names."""
    parts = assertion.split(".")
    if len(parts) != 3:
        raise OAuthError(400, "invalid_grant", "The assertion is not a JWT")
    header = _jwt_part(parts[0], "header")
    claims = _jwt_part(parts[1], "payload")
    for claim in ("sub", "jti", "exp"):
        if claim not in claims:
            raise OAuthError(
                400, "invalid_grant", f"Please check the '{claim}' claim: it is missing"
            )
    expires_at = float(claims["exp"])
    now = time.time()
    if expires_at <= now:
        raise OAuthError(
            400,
            "invalid_grant",
            "Current date/time MUST be before the expiration date/time listed "
            "in the 'exp' claim",
        )
    if expires_at > now + _MAX_ASSERTION_LIFETIME + 1:
        raise OAuthError(
            400,
            "invalid_grant",
            "Please check the 'exp' claim: it may be at most 60 seconds ahead",
        )
    policy.check_signature(assertion, header.get("kid"))
    policy.use_jwt_id(str(claims["jti"]), expires_at)
    return _jwt_user(claims)


def _ccg_user(form: Mapping[str, str]) -> str:
    if form.get("box_subject_type") == "user" and form.get("box_subject_id"):
        return form["box_subject_id"]
    return SERVICE_USER_ID


def grant_token(
    policy: TokenPolicy, form: Mapping[str, str]
) -> tuple[dict[str, Any], str]:
    """Run one ``POST /oauth2/token`` request; return the response and credential.

    The credential names what the request spent or presented: the refresh
    token, the JWT id, the authorization code or the client id.
    """
    grant_type = form.get("grant_type", "")
    if grant_type == "client_credentials":
        policy.check_client(form.get("client_id", ""), form.get("client_secret", ""))
        body = policy.issue(refreshable=False, user_id=_ccg_user(form))
        return body, form.get("client_id", "")
    if grant_type == "refresh_token":
        token = form.get("refresh_token", "")
        user_id = policy.use_refresh_token(token)
        return policy.issue(refreshable=True, user_id=user_id), token
    if grant_type == "authorization_code":
        policy.check_client(form.get("client_id", ""), form.get("client_secret", ""))
        code = form.get("code", "")
        user_id = policy.use_authorization_code(code)
        return policy.issue(refreshable=True, user_id=user_id), code
    if grant_type == JWT_GRANT:
        policy.check_client(form.get("client_id", ""), form.get("client_secret", ""))
        assertion = form.get("assertion", "")
        user_id = _check_assertion(policy, assertion)
        jti = str(_jwt_part(assertion.split(".")[1], "payload")["jti"])
        return policy.issue(refreshable=False, user_id=user_id), jti
    raise OAuthError(
        400,
        "unsupported_grant_type",
        f"Grant type {grant_type!r} is not supported; use client_credentials, "
        f"refresh_token, authorization_code or {JWT_GRANT}",
    )


def _presented(form: Mapping[str, str]) -> str:
    """Name the credential a token request presents, even one rejected."""
    for key in ("refresh_token", "code"):
        if form.get(key):
            return form[key]
    assertion = form.get("assertion", "").split(".")
    if len(assertion) == 3:
        try:
            return str(_jwt_part(assertion[1], "payload").get("jti", ""))
        except OAuthError:
            return ""
    return form.get("client_id", "")


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
    facts(request).grant_type = fields.get("grant_type", "")
    facts(request).credential = _presented(fields)
    try:
        body, credential = grant_token(policy, fields)
    except OAuthError as error:
        logger.info("token request rejected: %s", error.description)
        return oauth_error_response(error)
    facts(request).credential = credential
    logger.debug("issued a token for grant type %s", fields.get("grant_type"))
    return web.json_response(body)


async def authorize_endpoint(request: web.Request) -> web.StreamResponse:
    """Handle ``GET /api/oauth2/authorize``: consent at once and redirect."""
    redirect_uri = request.query.get("redirect_uri", "")
    if request.query.get("response_type") != "code" or not redirect_uri:
        raise web.HTTPBadRequest(
            text="response_type=code and a redirect_uri are required"
        )
    policy: TokenPolicy = request.app[POLICY_KEY]
    params = {"code": policy.authorization_code()}
    if "state" in request.query:
        params["state"] = request.query["state"]
    separator = "&" if "?" in redirect_uri else "?"
    raise web.HTTPFound(redirect_uri + separator + urlencode(params))


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
