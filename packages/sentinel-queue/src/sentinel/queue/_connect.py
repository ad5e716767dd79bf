"""Clients for a Redis URL, Redis Sentinel or Redis Cluster, with clear errors."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.cluster
import redis.sentinel

from sentinel.core import redact_url
from sentinel.queue._errors import QueueConnectionError

logger = logging.getLogger(__name__)

PLAIN_SCHEMES = ("redis", "rediss", "unix")
CLUSTER_SCHEME = "redis+cluster"
SENTINEL_SCHEME = "redis+sentinel"
HEALTH_CHECK_INTERVAL = 30


def client_for_url(url: str) -> Any:
    """Build the client that ``url`` names, without connecting yet."""
    scheme = urlsplit(url).scheme
    try:
        if scheme in PLAIN_SCHEMES:
            return redis.Redis.from_url(
                url,
                decode_responses=True,
                health_check_interval=HEALTH_CHECK_INTERVAL,
            )
        if scheme == CLUSTER_SCHEME:
            return redis.cluster.RedisCluster.from_url(
                "redis" + url[len(CLUSTER_SCHEME) :], decode_responses=True
            )
        if scheme == SENTINEL_SCHEME:
            return _sentinel_master(url)
    except ValueError as exc:
        raise _bad_url(url, str(exc)) from exc
    raise _bad_url(url, f"the scheme {scheme!r} is not supported")


connect_url = client_for_url


def _bad_url(url: str, reason: str) -> QueueConnectionError:
    return QueueConnectionError(
        f"queue.url {redact_url(url)!r} is not a Redis URL ({reason}); use "
        f"redis://[:password@]host:6379/0, rediss:// for TLS, "
        f"redis+cluster://host:port or redis+sentinel://host:port/service"
    )


def _sentinel_master(url: str) -> redis.Redis:
    parts = urlsplit(url)
    hosts = []
    for item in parts.netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"sentinel address {item!r} is not host:port")
        hosts.append((host, int(port)))
    path = [part for part in parts.path.split("/") if part]
    if not path:
        raise ValueError("the service name is missing after the addresses")
    password = unquote(parts.password) if parts.password else None
    sentinel = redis.sentinel.Sentinel(
        hosts, sentinel_kwargs={"password": password} if password else None
    )
    db = int(path[1]) if len(path) > 1 else 0
    master: redis.Redis = sentinel.master_for(
        path[0], db=db, password=password, decode_responses=True
    )
    return master


def check_connection(client: Any, url: str) -> None:
    """PING the server of ``url``, or raise one clear :class:`QueueConnectionError`."""
    try:
        client.ping()
    except redis.AuthenticationError as exc:
        if not _has_password(url):
            raise QueueConnectionError(
                f"Redis at {redact_url(url)} needs a password ({exc}); put it in "
                f"queue.url as redis://:PASSWORD@host:port/0"
            ) from exc
        raise QueueConnectionError(
            f"Redis at {redact_url(url)} rejected the password ({exc}); put the right "
            f"password in queue.url as redis://:PASSWORD@host:port/0"
        ) from exc
    except redis.ResponseError as exc:
        if "NOAUTH" in str(exc) or "AUTH" in str(exc).upper():
            raise QueueConnectionError(
                f"Redis at {redact_url(url)} needs a password ({exc}); put it in "
                f"queue.url as redis://:PASSWORD@host:port/0"
            ) from exc
        raise QueueConnectionError(
            f"Redis at {redact_url(url)} answered PING with an error: {exc}"
        ) from exc
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise QueueConnectionError(
            f"cannot reach Redis at {redact_url(url)} ({exc}); start the server, "
            f"correct queue.url, or set queue.url to null: 'sentinel run' then "
            f"starts an embedded server, and commands run in its folder use it"
        ) from exc
    except redis.RedisError as exc:
        raise QueueConnectionError(
            f"Redis at {redact_url(url)} failed on PING ({type(exc).__name__}: {exc})"
        ) from exc


def _has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False
