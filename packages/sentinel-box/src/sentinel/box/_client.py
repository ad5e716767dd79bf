"""Build a box_sdk_gen client from the ``box`` config section."""

from __future__ import annotations

import logging
from collections.abc import Mapping
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

from sentinel.box._errors import BoxConfigError
from sentinel.box._settings import box_settings

logger = logging.getLogger(__name__)


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


def make_auth(settings: Mapping[str, Any]) -> Authentication:
    """Return the authentication that ``box.auth`` describes.

    A developer token wins over a JWT config file, which wins over client
    credentials (CCG).
    """
    auth = box_settings(settings)["auth"]
    if auth["developer_token"]:
        return BoxDeveloperTokenAuth(
            str(auth["developer_token"]),
            config=DeveloperTokenConfig(
                client_id=auth["client_id"], client_secret=auth["client_secret"]
            ),
        )
    if auth["jwt_config_file"]:
        jwt_auth = BoxJWTAuth(JWTConfig.from_config_file(str(auth["jwt_config_file"])))
        if auth["user_id"]:
            return jwt_auth.with_user_subject(str(auth["user_id"]))
        return jwt_auth
    if auth["client_id"]:
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
        return BoxCCGAuth(
            CCGConfig(
                str(auth["client_id"]),
                str(auth["client_secret"]),
                enterprise_id=auth["enterprise_id"],
                user_id=auth["user_id"],
            )
        )
    raise BoxConfigError(
        "no Box credentials are configured; set box.auth.developer_token, "
        "box.auth.client_id with client_secret, or box.auth.jwt_config_file "
        "(under 'sentinel run' the local emulator is used when none is set)"
    )


def make_client(settings: Mapping[str, Any]) -> BoxClient:
    """Build a Box client from the ``box`` config section.

    Every request gets ``box.timeout`` as its connect and read timeout and
    at most ``box.max_attempts`` attempts.
    """
    box = box_settings(settings)
    timeout_ms = int(float(box["timeout"]) * 1000)
    max_attempts = int(box["max_attempts"])
    if max_attempts < 1 or timeout_ms <= 0:
        raise BoxConfigError(
            f"box.max_attempts is {max_attempts} and box.timeout is {box['timeout']}; "
            "both must be positive"
        )
    session = NetworkSession(
        base_urls=base_urls(box),
        timeout_config=TimeoutConfig(
            connection_timeout_ms=timeout_ms, read_timeout_ms=timeout_ms
        ),
        retry_strategy=BoxRetryStrategy(max_attempts=max_attempts),
    )
    client = BoxClient(make_auth(box), network_session=session)
    logger.debug("Box client for %s built", session.base_urls.base_url)
    return client
