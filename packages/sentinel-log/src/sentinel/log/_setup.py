"""Handlers built from the ``log`` config section, and the secrets to mask."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sentinel.log._handler import BackgroundHandler


def handlers_from_settings(
    settings: Mapping[str, Any], secrets: Iterable[str] = ()
) -> list[BackgroundHandler]:
    """Build the Slack and Twilio handlers that the ``log`` section enables.

    Slack is enabled by ``slack.token`` and Twilio by ``twilio.account_sid``;
    each handler masks ``secrets`` in addition to its own credentials.
    """
    secrets = list(secrets)
    handlers: list[BackgroundHandler] = []
    slack = settings.get("slack") or {}
    if slack.get("token"):
        from sentinel.log._slack import SlackHandler

        handlers.append(
            SlackHandler(
                slack["token"],
                slack.get("channel") or "",
                base_url=slack.get("base_url"),
                level=slack.get("level") or "ERROR",
                secrets=secrets,
            )
        )
    twilio = settings.get("twilio") or {}
    if twilio.get("account_sid"):
        from sentinel.log._twilio import TwilioSmsHandler

        handlers.append(
            TwilioSmsHandler(
                twilio["account_sid"],
                twilio.get("auth_token") or "",
                twilio.get("from_number") or "",
                twilio.get("to_numbers") or [],
                base_url=twilio.get("base_url"),
                level=twilio.get("level") or "CRITICAL",
                secrets=secrets,
            )
        )
    return handlers
