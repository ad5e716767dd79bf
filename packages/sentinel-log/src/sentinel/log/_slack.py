"""A log handler that posts records to a Slack channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.base_client import BaseClient

from sentinel.log._errors import HandlerConfigError
from sentinel.log._handler import (
    DEFAULT_FORMAT,
    BackgroundHandler,
    HandlerOptions,
    with_secret,
)


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters that Slack's text formatting treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackHandler(BackgroundHandler):
    """Post log records to a Slack channel with ``chat.postMessage``.

    ``token`` is a bot token with the ``chat:write`` scope; it is masked in
    everything the handler sends or writes to stderr. ``base_url`` replaces
    the Slack Web API URL, for a proxy or a local test endpoint. Rate limit
    responses (HTTP 429) are retried after the Retry-After delay they carry.
    """

    service = "Slack"
    # Slack truncates longer texts and advises keeping messages far shorter.
    max_length = 4000
    default_format = DEFAULT_FORMAT

    def __init__(
        self,
        token: str,
        channel: str,
        *,
        base_url: str | None = None,
        timeout: int = 10,
        **options: Unpack[HandlerOptions],
    ) -> None:
        if not token:
            raise HandlerConfigError(
                "SlackHandler needs a token: set log.slack.token to a bot token "
                "with the chat:write scope"
            )
        if not channel:
            raise HandlerConfigError(
                "SlackHandler needs a channel: set log.slack.channel to a channel "
                "name or id, such as '#alerts'"
            )
        super().__init__(**with_secret(token, options))
        self.channel = channel
        # An empty retry handler list leaves retries to this handler, so one
        # attempt is one request and the backoff policy lives in one place.
        self.client = WebClient(
            token=token,
            base_url=base_url or BaseClient.BASE_URL,
            timeout=timeout,
            retry_handlers=[],
        )

    def targets(self) -> Sequence[str]:
        """Return the one channel that receives every message."""
        return (self.channel,)

    def send(self, target: str, text: str) -> None:
        """Post ``text`` to the channel ``target``."""
        self.client.chat_postMessage(
            channel=target,
            text=escape_mrkdwn(text),
            unfurl_links=False,
            unfurl_media=False,
        )

    def retry_delay(self, exc: Exception, attempt: int) -> float | None:
        """Retry rate limits, server errors and network errors; give up on the rest.

        Slack returns HTTP 200 with ``ok: false`` for a bad token or an
        unknown channel, and sending again cannot fix that.
        """
        if isinstance(exc, SlackApiError):
            status = exc.response.status_code
            if status == 429:
                return max(self.backoff(attempt), _retry_after(exc))
            if status >= 500:
                return self.backoff(attempt)
            return None
        if isinstance(exc, OSError):
            return self.backoff(attempt)
        return None


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else 0.0
    except ValueError:
        return 0.0
