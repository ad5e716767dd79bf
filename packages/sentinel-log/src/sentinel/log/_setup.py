"""Handlers built from the ``log`` config section, and the secrets to mask."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sentinel.core import ConfigSection, Field
from sentinel.log._handler import BackgroundHandler

# Values under keys named like these are masked even when no schema marks
# them secret, such as a password inside a plugin's free-form options.
_SECRET_KEY = re.compile(r"token|secret|password|passwd|api_?key|credential", re.I)


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


def configured_secrets(
    values: Mapping[str, Any], sections: Mapping[str, ConfigSection]
) -> list[str]:
    """Collect every string value that the schema or its key name marks secret."""
    found: list[str] = []
    for name, value in values.items():
        section = sections.get(name)
        spec = Field("section", fields=section.fields) if section is not None else None
        _collect(value, str(name), spec, found)
    return found


def _collect(value: Any, key: str, spec: Field | None, found: list[str]) -> None:
    if isinstance(value, Mapping):
        children = spec.fields if spec is not None else {}
        for child_key, child in value.items():
            _collect(child, str(child_key), children.get(str(child_key)), found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, key, None, found)
    elif isinstance(value, str) and value:
        marked = spec is not None and spec.secret
        if marked or _SECRET_KEY.search(key):
            found.append(value)
