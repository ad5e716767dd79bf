"""A log handler that sends records as SMS through Twilio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from requests import RequestException
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sentinel.log._errors import HandlerConfigError
from sentinel.log._handler import (
    DEFAULT_FORMAT,
    BackgroundHandler,
    HandlerOptions,
    with_secret,
)


class TwilioSmsHandler(BackgroundHandler):
    """Send log records as SMS to one or more phone numbers.

    Each record becomes one ``messages.create`` call per number in
    ``to_numbers``, each retried on its own, so a failure for one number
    never sends a duplicate to another. ``base_url`` replaces the Twilio REST
    API URL, for a proxy or a local test endpoint. ``auth_token`` is masked
    in everything the handler sends or writes to stderr.
    """

    service = "Twilio SMS"
    # Twilio rejects message bodies longer than 1600 characters.
    max_length = 1600
    default_format = DEFAULT_FORMAT

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        to_numbers: Sequence[str] | str,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        **options: Unpack[HandlerOptions],
    ) -> None:
        numbers = [to_numbers] if isinstance(to_numbers, str) else list(to_numbers)

        _require(account_sid, "account_sid", "the account SID (AC...)")
        _require(auth_token, "auth_token", "the account's auth token")
        _require(from_number, "from_number", "a Twilio number such as +15005550006")
        if not numbers or not all(numbers):
            raise HandlerConfigError(
                f"to_numbers={numbers!r} is invalid: expected one or more phone "
                f"numbers; set log.twilio.to_numbers"
            )

        super().__init__(**with_secret(auth_token, options))
        self.from_number = from_number
        self.to_numbers = tuple(numbers)

        # The SDK's own retries are off (max_retries=0) so that one attempt
        # is one request and the backoff policy lives in this handler.
        self.client = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=timeout, max_retries=0),
        )
        if base_url:
            _point_at(self.client, base_url)

    def targets(self) -> Sequence[str]:
        """Return the phone numbers that receive every message."""
        return self.to_numbers

    def send(self, target: str, text: str) -> None:
        """Send ``text`` as one SMS to the number ``target``."""
        self.client.messages.create(to=target, from_=self.from_number, body=text)

    def retry_delay(self, exc: Exception, attempt: int) -> float | None:
        """Retry rate limits, server errors and network errors; give up on the rest."""
        if isinstance(exc, TwilioRestException):
            if exc.status == 429 or exc.status >= 500:
                return self.backoff(attempt)
            return None
        if isinstance(exc, (RequestException, OSError)):
            return self.backoff(attempt)
        return None


def _require(value: str, name: str, expected: str) -> None:
    if not value:
        raise HandlerConfigError(
            f"TwilioSmsHandler needs {name}: set log.twilio.{name} to {expected}"
        )


def _point_at(client: Client, base_url: str) -> None:
    """Send the client's Messages API requests to ``base_url``."""
    # Every REST domain object keeps its own base URL; the Messages resource
    # lives under the "api" domain, so replacing that one is enough.
    client.api.base_url = base_url.rstrip("/")
    # TWILIO_EDGE and TWILIO_REGION from the environment would splice region
    # names into the host of base_url and break it.
    client.edge = None
    client.region = None
