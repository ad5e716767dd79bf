"""The sentinel-log plugin: Slack and Twilio log handlers and the ``log`` section."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sentinel.core import LOG_HANDLER, ConfigSection, Field, TypeSpec, hookimpl

if TYPE_CHECKING:
    from sentinel.core import Agent
    from sentinel.log._handler import BackgroundHandler

logger = logging.getLogger(__name__)

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

LOG_SECTION = ConfigSection(
    name="log",
    help="Alerts on Slack and by SMS for log records at or above a level.",
    fields={
        "slack": Field(
            "section",
            help="Post log records to a Slack channel; enabled when token is set.",
            fields={
                "token": Field(
                    str,
                    None,
                    "Bot token with the chat:write scope.",
                    secret=True,
                    nullable=True,
                ),
                "channel": Field(
                    str, None, "Channel name or id, such as '#alerts'.", nullable=True
                ),
                "base_url": Field(
                    str,
                    None,
                    "Slack Web API URL; null means Slack's own.",
                    nullable=True,
                ),
                "level": Field(
                    str, "ERROR", "Lowest level that is posted.", choices=LEVELS
                ),
            },
        ),
        "twilio": Field(
            "section",
            help="Send log records as SMS; enabled when account_sid is set.",
            fields={
                "account_sid": Field(
                    str, None, "Twilio account SID (AC...).", nullable=True
                ),
                "auth_token": Field(
                    str, None, "Twilio auth token.", secret=True, nullable=True
                ),
                "from_number": Field(
                    str,
                    None,
                    "Sending Twilio number, such as +15005550006.",
                    nullable=True,
                ),
                "to_numbers": Field(list, [], "Phone numbers that receive each SMS."),
                "base_url": Field(
                    str,
                    None,
                    "Twilio REST API URL; null means Twilio's own.",
                    nullable=True,
                ),
                "level": Field(
                    str, "CRITICAL", "Lowest level that is sent.", choices=LEVELS
                ),
            },
        ),
    },
)

# Handlers attached by sentinel_startup, per agent, so shutdown removes
# exactly those and leaves handlers that the CLI or the application added.
_attached: dict[int, list[BackgroundHandler]] = {}


@hookimpl
def sentinel_types() -> list[TypeSpec]:
    """Declare the Slack and Twilio log handler types."""
    return [
        TypeSpec(
            LOG_HANDLER,
            "slack",
            "sentinel.log._slack:SlackHandler",
            "Post log records to a Slack channel without blocking the caller.",
        ),
        TypeSpec(
            LOG_HANDLER,
            "twilio",
            "sentinel.log._twilio:TwilioSmsHandler",
            "Send log records as SMS through Twilio without blocking the caller.",
        ),
    ]


@hookimpl
def sentinel_config_sections() -> list[ConfigSection]:
    """Declare the ``log`` section."""
    return [LOG_SECTION]


@hookimpl
def sentinel_startup(agent: Agent) -> None:
    """Attach the configured Slack and Twilio handlers to the root logger."""
    from sentinel.log._setup import handlers_from_settings

    settings = agent.settings.get("log") or {}
    secrets = agent.config.secret_values()
    handlers = handlers_from_settings(settings, secrets)
    root = logging.getLogger()
    for handler in handlers:
        root.addHandler(handler)
        logger.info(
            "%s: sending log records at %s and above",
            type(handler).__name__,
            logging.getLevelName(handler.level),
        )
    _attached[id(agent)] = handlers


@hookimpl
def sentinel_shutdown(agent: Agent) -> None:
    """Detach the handlers that startup attached and send what they still hold."""
    root = logging.getLogger()
    for handler in _attached.pop(id(agent), []):
        root.removeHandler(handler)
        handler.close()
