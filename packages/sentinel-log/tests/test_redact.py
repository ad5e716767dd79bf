"""Tests of Redactor: credential patterns and configured secret values."""

from __future__ import annotations

import pytest

from sentinel.log import Redactor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "token xoxb-123-456-abcDEF sent", "token *** sent", id="slack-bot"
        ),
        pytest.param("app xapp-1-A0-99-ff end", "app *** end", id="slack-app"),
        pytest.param(
            "Authorization: Bearer eyJhbGciOi.x.y",
            "Authorization: Bearer ***",
            id="auth-bearer",
        ),
        pytest.param(
            "Authorization: Basic dXNlcjpwYXNz",
            "Authorization: Basic ***",
            id="auth-basic",
        ),
        pytest.param(
            "{'Authorization': 'abc123'}", "{'Authorization': '***'}", id="auth-dict"
        ),
        pytest.param("sent bearer abc.def-ghi", "sent bearer ***", id="bearer-bare"),
        pytest.param("password=hunter2 user=bob", "password=*** user=bob", id="kv"),
        pytest.param('{"client_secret": "abc"}', '{"client_secret": "***"}', id="json"),
        pytest.param("SLACK_TOKEN=xyz", "SLACK_TOKEN=***", id="env-name"),
        pytest.param("api-key: zz9", "api-key: ***", id="api-key"),
        pytest.param(
            "redis://user:pa55word@host:6379/0",
            "redis://user:***@host:6379/0",
            id="url-password",
        ),
        pytest.param("redis://:pa55@host", "redis://:***@host", id="url-no-user"),
    ],
)
def test_redactor_masks_credential(text: str, expected: str) -> None:
    assert Redactor()(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("the token expired at noon", id="prose-token"),
        pytest.param("token_count=5 tokens=4", id="similar-keys"),
        pytest.param("basic validation failed", id="prose-basic"),
        pytest.param("http://host:8080/path", id="url-port"),
        pytest.param("uploaded report.csv to /Sentinel/Inbox", id="plain"),
    ],
)
def test_redactor_keeps_ordinary_text(text: str) -> None:
    assert Redactor()(text) == text


def test_redactor_masks_configured_secret_anywhere() -> None:
    redact = Redactor(["s3cr3t-value"])

    assert redact("a s3cr3t-value b/s3cr3t-value") == "a *** b/***"


def test_redactor_masks_longer_secret_whole() -> None:
    redact = Redactor(["abcd", "abcdefgh"])

    assert redact("key abcdefgh") == "key ***"


def test_redactor_skips_too_short_secret() -> None:
    redact = Redactor(["ab", "", "abcd"])

    assert redact("ab abcd") == "ab ***"


def test_redactor_add_secrets_extends() -> None:
    redact = Redactor(["first-secret"])
    redact.add_secrets(["second-secret"])

    assert redact("first-secret second-secret") == "*** ***"


def test_redactor_long_input_completes() -> None:
    # A pattern with unbounded nested repeats would take minutes here.
    text = "a-" * 200_000 + "password=x"

    assert Redactor()(text).endswith("password=***")
