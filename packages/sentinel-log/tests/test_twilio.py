"""Tests of TwilioSmsHandler against a local Twilio REST API endpoint."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from sentinel.log import HandlerConfigError, TwilioSmsHandler

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-auth-token-1234"
FROM = "+15005550006"
TO = ["+15005550001", "+15005550002"]


def record(msg: str, *args: Any, level: int = logging.CRITICAL) -> logging.LogRecord:
    return logging.LogRecord("app", level, __file__, 1, msg, args or None, None)


@pytest.fixture
def make_sms(twilio_api: Any) -> Iterator[Any]:
    handlers: list[TwilioSmsHandler] = []

    def make(**options: Any) -> TwilioSmsHandler:
        settings: dict[str, Any] = {
            "base_url": twilio_api.url,
            "retry_backoff": 0.01,
            "close_timeout": 10.0,
        }
        settings.update(options)
        handler = TwilioSmsHandler(ACCOUNT_SID, AUTH_TOKEN, FROM, TO, **settings)
        handlers.append(handler)
        return handler

    yield make
    for handler in handlers:
        handler.close()


def test_sms_to_two_numbers_posts_two_requests(make_sms: Any, twilio_api: Any) -> None:
    handler = make_sms()

    handler.handle(record("queue %s is down", "default"))
    handler.close()

    assert len(twilio_api.requests) == 2
    forms = [request.form() for request in twilio_api.requests]
    assert [form["To"] for form in forms] == TO
    for form in forms:
        assert form["From"] == FROM
        assert form["Body"] == "CRITICAL app: queue default is down"
    assert handler.stats()["sent"] == 2


def test_sms_request_uses_account_path_and_basic_auth(
    make_sms: Any, twilio_api: Any
) -> None:
    handler = make_sms()

    handler.handle(record("check auth"))
    handler.close()

    request = twilio_api.requests[0]
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.basic_auth() == (ACCOUNT_SID, AUTH_TOKEN)


def test_sms_single_number_as_string(twilio_api: Any) -> None:
    handler = TwilioSmsHandler(
        ACCOUNT_SID, AUTH_TOKEN, FROM, TO[0], base_url=twilio_api.url
    )

    handler.handle(record("one"))
    handler.close()

    assert [request.form()["To"] for request in twilio_api.requests] == [TO[0]]


def test_sms_auth_token_redacted_in_body(make_sms: Any, twilio_api: Any) -> None:
    handler = make_sms()

    handler.handle(record("configured with %s", AUTH_TOKEN))
    handler.close()

    body = twilio_api.requests[0].form()["Body"]
    assert AUTH_TOKEN not in body
    assert body == "CRITICAL app: configured with ***"


def test_sms_server_error_retried_per_number(make_sms: Any, twilio_api: Any) -> None:
    # Only the first request fails. The retry repeats that number alone, so
    # the second number gets exactly one request.
    twilio_api.statuses = [500]
    handler = make_sms(retries=2)

    handler.handle(record("retry me"))
    handler.close()

    assert [request.form()["To"] for request in twilio_api.requests] == [
        TO[0],
        TO[0],
        TO[1],
    ]
    assert handler.stats()["sent"] == 2
    assert handler.stats()["failed"] == 0


def test_sms_failing_endpoint_never_raises(
    make_sms: Any, twilio_api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    twilio_api.status = 503
    handler = make_sms(retries=1)

    handler.handle(record("down"))
    handler.close()

    assert len(twilio_api.requests) == 4
    assert handler.stats()["failed"] == 2
    stderr = capsys.readouterr().err
    assert f"could not send to {TO[0]} after 2 attempts" in stderr
    assert f"could not send to {TO[1]} after 2 attempts" in stderr
    assert AUTH_TOKEN not in stderr


def test_sms_rejected_request_not_retried(
    make_sms: Any, twilio_api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    twilio_api.status = 400
    handler = make_sms(retries=3)

    handler.handle(record("bad number"))
    handler.close()

    assert len(twilio_api.requests) == 2
    assert "after 1 attempt:" in capsys.readouterr().err


def test_sms_long_body_truncated(make_sms: Any, twilio_api: Any) -> None:
    handler = make_sms()

    handler.handle(record("y" * 5000))
    handler.close()

    body = twilio_api.requests[0].form()["Body"]
    assert len(body) == 1600
    assert body.endswith("...")


def test_sms_ignores_edge_from_environment(
    twilio_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    handler = TwilioSmsHandler(
        ACCOUNT_SID, AUTH_TOKEN, FROM, TO[:1], base_url=twilio_api.url
    )

    handler.handle(record("edge"))
    handler.close()

    assert len(twilio_api.requests) == 1


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        pytest.param(("", AUTH_TOKEN, FROM, TO), "needs account_sid", id="no-sid"),
        pytest.param((ACCOUNT_SID, "", FROM, TO), "needs auth_token", id="no-token"),
        pytest.param(
            (ACCOUNT_SID, AUTH_TOKEN, "", TO), "needs from_number", id="no-from"
        ),
        pytest.param((ACCOUNT_SID, AUTH_TOKEN, FROM, []), "to_numbers=", id="no-to"),
        pytest.param(
            (ACCOUNT_SID, AUTH_TOKEN, FROM, [""]), "to_numbers=", id="blank-to"
        ),
    ],
)
def test_sms_handler_rejects_missing_setting(
    arguments: tuple[Any, ...], expected: str
) -> None:
    with pytest.raises(HandlerConfigError, match=expected):
        TwilioSmsHandler(*arguments)
