"""Build a paced, retrying box_sdk_gen client from the ``box`` config section."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from box_sdk_gen import (
    BoxCCGAuth,
    BoxClient,
    BoxDeveloperTokenAuth,
    BoxJWTAuth,
    CCGConfig,
    DeveloperTokenConfig,
    JWTConfig,
)
from box_sdk_gen.networking.auth import Authentication
from box_sdk_gen.networking.base_urls import BaseUrls
from box_sdk_gen.networking.network import NetworkSession
from box_sdk_gen.networking.retries import BoxRetryStrategy
from box_sdk_gen.networking.timeout_config import TimeoutConfig

from sentinel.box._auth import Grant, RefreshTokenGrant, SdkGrant, SharedAuth
from sentinel.box._errors import BoxConfigError
from sentinel.box._network import PacedNetworkClient
from sentinel.box._ratelimit import MemoryLimiter, Pacer, RedisLimiter, parse_limits
from sentinel.box._retry import RetryPolicy
from sentinel.box._settings import box_settings
from sentinel.box._tokens import (
    Cipher,
    ExpiringTokenStorage,
    MemoryTokenStorage,
    RedisTokenStorage,
)

logger = logging.getLogger(__name__)

# One schedule, one token store and one Redis client per process, shared by
# every client that make_client builds, so tasks in one worker pace together.
_SHARED_LOCK = threading.Lock()
_MEMORY_LIMITER = MemoryLimiter()
_MEMORY_TOKENS: dict[str, MemoryTokenStorage] = {}
_REDIS_CLIENTS: dict[str, Any] = {}
_REDIS_LIMITERS: dict[str, RedisLimiter] = {}


def base_urls(settings: Mapping[str, Any]) -> BaseUrls:
    """Return the API, upload and OAuth base URLs that the section selects.

    With ``api_url`` set, unset upload and OAuth URLs follow the emulator's
    layout under it; with none set, the client talks to Box itself.
    """
    box = box_settings(settings)
    api_url = box["api_url"]
    if not api_url:
        defaults = BaseUrls()
        return BaseUrls(
            base_url=defaults.base_url,
            upload_url=box["upload_url"] or defaults.upload_url,
            oauth_2_url=box["oauth_url"] or defaults.oauth_2_url,
        )
    api_url = str(api_url).rstrip("/")
    return BaseUrls(
        base_url=api_url,
        upload_url=box["upload_url"] or f"{api_url}/api",
        oauth_2_url=box["oauth_url"] or f"{api_url}/api/oauth2",
    )


def redis_url_for(
    settings: Mapping[str, Any], fallback: str | None = None
) -> str | None:
    """Return the Redis URL for pacing and tokens: box.rate_limit.redis_url or
    ``fallback`` (the queue's URL)."""
    box = box_settings(settings)
    return box["rate_limit"]["redis_url"] or fallback or None


def _redis_client(url: str) -> Any:
    from sentinel.queue import connect

    with _SHARED_LOCK:
        client = _REDIS_CLIENTS.get(url)
        if client is None:
            client = _REDIS_CLIENTS[url] = connect(url)
        return client


def _uses_redis(backend: str, url: str | None, what: str) -> bool:
    if backend == "redis" and not url:
        raise BoxConfigError(
            f"box.{what}.backend is redis but no Redis URL is known; set "
            "box.rate_limit.redis_url or queue.url"
        )
    return backend != "memory" and bool(url)


def make_pacer(settings: Mapping[str, Any], redis_url: str | None = None) -> Pacer:
    """Return the pacer that ``box.rate_limit`` describes."""
    section = box_settings(settings)["rate_limit"]
    burst = int(section["burst"])
    user_limits = parse_limits(
        {kind: section[kind] for kind in ("general", "upload", "search")},
        "box.rate_limit",
        burst,
    )
    enterprise = parse_limits(
        {"search": section["enterprise_search"]}, "box.rate_limit", burst
    )
    prefix = f"{section['key_prefix']}:rate"
    if not section["enabled"]:
        return Pacer(None, user_limits, enterprise, prefix=prefix)
    if _uses_redis(str(section["backend"]), redis_url, "rate_limit"):
        assert redis_url is not None
        with _SHARED_LOCK:
            limiter = _REDIS_LIMITERS.get(redis_url)
        if limiter is None:
            limiter = RedisLimiter(_redis_client(redis_url))
            with _SHARED_LOCK:
                limiter = _REDIS_LIMITERS.setdefault(redis_url, limiter)
        return Pacer(limiter, user_limits, enterprise, prefix=prefix)
    return Pacer(_MEMORY_LIMITER, user_limits, enterprise, prefix=prefix)


def pacing_subject(settings: Mapping[str, Any]) -> str:
    """Name the Box user that requests count against when no As-User is sent.

    Box counts limits per user; the configured user or enterprise names it,
    else the app, else a digest of the developer token (never the token).
    """
    box = box_settings(settings)
    auth = box["auth"]
    if auth["user_id"]:
        return f"user-{auth['user_id']}"
    if auth["enterprise_id"]:
        return f"enterprise-{auth['enterprise_id']}"
    if auth["client_id"]:
        return f"app-{auth['client_id']}"
    if auth["developer_token"]:
        return f"token-{_digest(str(auth['developer_token']))}"
    return "default"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _retry_policy(box: Mapping[str, Any]) -> RetryPolicy:
    max_attempts = int(box["max_attempts"])
    if max_attempts < 1:
        raise BoxConfigError(
            f"box.max_attempts is {max_attempts}; it must be at least 1"
        )
    return RetryPolicy(
        max_attempts=max_attempts,
        base=float(box["retry_backoff"]),
        cap=float(box["retry_max_delay"]),
    )


def make_auth(
    settings: Mapping[str, Any], *, redis_url: str | None = None
) -> Authentication:
    """Return the authentication that ``box.auth`` describes.

    A developer token wins over a JWT config file, which wins over an OAuth
    2.0 refresh token, which wins over client credentials (CCG). All but the
    developer token keep their token in the store ``box.token_store``
    selects and refresh it under its lock.
    """
    box = box_settings(settings)
    auth = box["auth"]
    if auth["developer_token"]:
        return BoxDeveloperTokenAuth(
            str(auth["developer_token"]),
            config=DeveloperTokenConfig(
                client_id=auth["client_id"], client_secret=auth["client_secret"]
            ),
        )
    grant, identity = _grant(auth)
    storage = _token_storage(box, identity, redis_url)
    return SharedAuth(
        grant,
        storage,
        policy=_retry_policy(box),
        expiry_margin=float(box["token_store"]["expiry_margin"]),
    )


def _grant(auth: Mapping[str, Any]) -> tuple[Grant, str]:
    if auth["jwt_config_file"]:
        path = Path(str(auth["jwt_config_file"])).expanduser()
        try:
            config = JWTConfig.from_config_file(str(path))
        except OSError as error:
            raise BoxConfigError(
                f"box.auth.jwt_config_file {path} cannot be read: {error.strerror}"
            ) from error
        except (ValueError, KeyError, TypeError) as error:
            raise BoxConfigError(
                f"box.auth.jwt_config_file {path} is not a Box JWT app config: "
                f"{error}; download it again from the Box developer console"
            ) from error
        jwt_auth = BoxJWTAuth(config)
        if auth["user_id"]:
            jwt_auth = jwt_auth.with_user_subject(str(auth["user_id"]))
        subject = f"{jwt_auth.subject_type}-{jwt_auth.subject_id}"
        return SdkGrant("jwt", jwt_auth), f"jwt:{config.client_id}:{subject}"
    if auth["refresh_token"]:
        if not (auth["client_id"] and auth["client_secret"]):
            raise BoxConfigError(
                "box.auth.refresh_token needs box.auth.client_id and "
                "box.auth.client_secret of the OAuth 2.0 app that issued it"
            )
        grant = RefreshTokenGrant(
            str(auth["client_id"]),
            str(auth["client_secret"]),
            str(auth["refresh_token"]),
        )
        seed = _digest(str(auth["refresh_token"]))
        return grant, f"oauth:{auth['client_id']}:{seed}"
    if auth["client_id"]:
        return _ccg_grant(auth)
    raise BoxConfigError(
        "no Box credentials are configured; set box.auth.developer_token, "
        "box.auth.client_id with client_secret, box.auth.jwt_config_file or "
        "box.auth.refresh_token (under 'sentinel run' the local emulator is used "
        "when none is set)"
    )


def _ccg_grant(auth: Mapping[str, Any]) -> tuple[Grant, str]:
    if not auth["client_secret"]:
        raise BoxConfigError(
            "box.auth.client_id is set but box.auth.client_secret is missing; "
            "set both for client credentials (CCG)"
        )
    if not (auth["enterprise_id"] or auth["user_id"]):
        raise BoxConfigError(
            "client credentials need box.auth.enterprise_id or box.auth.user_id; "
            "set the one your Box app acts as"
        )
    ccg = BoxCCGAuth(
        CCGConfig(
            str(auth["client_id"]),
            str(auth["client_secret"]),
            enterprise_id=auth["enterprise_id"],
            user_id=auth["user_id"],
        )
    )
    subject = (
        f"user-{auth['user_id']}"
        if auth["user_id"]
        else f"enterprise-{auth['enterprise_id']}"
    )
    return SdkGrant("client_credentials", ccg), f"ccg:{auth['client_id']}:{subject}"


def _token_storage(
    box: Mapping[str, Any], identity: str, redis_url: str | None
) -> ExpiringTokenStorage:
    section = box["token_store"]
    url = redis_url_for(box, redis_url)
    if _uses_redis(str(section["backend"]), url, "token_store"):
        assert url is not None
        env = section["encryption_key_env"]
        cipher = Cipher.from_env(str(env)) if env else None
        key = section["key"] or f"{box['rate_limit']['key_prefix']}:token:{identity}"
        return RedisTokenStorage(
            _redis_client(url),
            str(key),
            cipher=cipher,
            lock_seconds=float(section["lock_seconds"]),
        )
    with _SHARED_LOCK:
        storage = _MEMORY_TOKENS.get(identity)
        if storage is None:
            storage = _MEMORY_TOKENS[identity] = MemoryTokenStorage()
        return storage


def make_client(
    settings: Mapping[str, Any], *, redis_url: str | None = None
) -> BoxClient:
    """Build a Box client from the ``box`` config section.

    Every attempt waits for its slot under ``box.rate_limit`` (shared through
    Redis when ``box.rate_limit.redis_url`` or ``redis_url``, the queue's
    URL, is known), has ``box.timeout`` as its connect and read timeout, and
    is retried up to ``box.max_attempts`` attempts on 429, 5xx and network
    errors.
    """
    box = box_settings(settings)
    timeout_ms = int(float(box["timeout"]) * 1000)
    if timeout_ms <= 0:
        raise BoxConfigError(
            f"box.timeout is {box['timeout']}; it must be a positive number of seconds"
        )
    policy = _retry_policy(box)
    url = redis_url_for(box, redis_url)
    network = PacedNetworkClient(make_pacer(box, url), policy, pacing_subject(box))
    session = NetworkSession(
        network_client=network,
        base_urls=base_urls(box),
        timeout_config=TimeoutConfig(
            connection_timeout_ms=timeout_ms, read_timeout_ms=timeout_ms
        ),
        # Unused by the paced client, which applies ``policy`` itself. It is set
        # so that code reading the session gets the same attempt count.
        retry_strategy=BoxRetryStrategy(max_attempts=policy.max_attempts),
    )
    client = BoxClient(make_auth(box, redis_url=url), network_session=session)
    if box["as_user"]:
        client = client.with_as_user_header(str(box["as_user"]))
    logger.debug("Box client for %s built", session.base_urls.base_url)
    return client


def reset_shared_state() -> None:
    """Forget the process's Redis clients, limiters and in-memory tokens."""
    with _SHARED_LOCK:
        for client in _REDIS_CLIENTS.values():
            client.close()
        _REDIS_CLIENTS.clear()
        _REDIS_LIMITERS.clear()
        _MEMORY_TOKENS.clear()
