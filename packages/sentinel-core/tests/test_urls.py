"""Tests of URL redaction and port checks for config values."""

from __future__ import annotations

import pytest

from sentinel.core import redact_url
from sentinel.core._urls import url_port_error, url_secrets


@pytest.mark.parametrize(
    ("url", "shown", "secrets"),
    [
        pytest.param(
            "redis://u:pa/ss3cr3t@host:99999/0",
            "redis://u:***@host:99999/0",
            ["pa/ss3cr3t"],
            id="slash",
        ),
        pytest.param(
            "redis://u:pa#ss3cr3t@host/0",
            "redis://u:***@host/0",
            ["pa#ss3cr3t"],
            id="hash",
        ),
        pytest.param(
            "redis://u:pa?ss3cr3t@host/0",
            "redis://u:***@host/0",
            ["pa?ss3cr3t"],
            id="question-mark",
        ),
        pytest.param(
            "redis://u:p@ss@host/0", "redis://u:***@host/0", ["p@ss"], id="at-sign"
        ),
        pytest.param(
            "redis://host/0?password=s3cr3t&db=1",
            "redis://host/0?password=***&db=1",
            ["s3cr3t"],
            id="query-password",
        ),
        pytest.param(
            "redis://host/0?db=1&passwd=a1&secret=b2&token=c3#top",
            "redis://host/0?db=1&passwd=***&secret=***&token=***#top",
            ["a1", "b2", "c3"],
            id="query-names",
        ),
        pytest.param(
            "redis://host/0?ssl_password=p@ss",
            "redis://host/0?ssl_password=***",
            ["p@ss"],
            id="query-at-sign",
        ),
        pytest.param(
            "redis://:p%40w@host/0",
            "redis://:***@host/0",
            ["p%40w", "p@w"],
            id="quoted",
        ),
        pytest.param(
            "redis://user@host/0", "redis://user@host/0", [], id="no-password"
        ),
        pytest.param("host:6379", "host:6379", [], id="not-a-url"),
    ],
)
def test_redact_url(url: str, shown: str, secrets: list[str]) -> None:
    assert redact_url(url) == shown
    assert sorted(url_secrets(url)) == sorted(secrets)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("redis+sentinel://h1:26379,h2:26379/mymaster", id="sentinel"),
        pytest.param("sentinel://:pw@h1:26379,[::1]:26380/mymaster", id="ipv6"),
        pytest.param("redis://u:pa/ss@host:6379/0", id="slash-in-password"),
        pytest.param("redis://host:6379/0?password=p@ss", id="at-in-query"),
        pytest.param("unix:///tmp/redis.sock", id="no-host"),
    ],
)
def test_url_port_valid(url: str) -> None:
    assert url_port_error(url) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(
            "redis+sentinel://h1:26379,h2:x/mymaster", "host 'h2:x'", id="sentinel"
        ),
        pytest.param(
            "redis+sentinel://h1:26379,/mymaster", "an empty host", id="empty-host"
        ),
        pytest.param("redis://h1:1,h2:2/0", "host 'h1:1,h2:2'", id="single-host"),
        pytest.param("redis://u:pa/ss@host:99999/0", "out of range", id="range"),
        pytest.param(
            "redis://host:99999/0?password=p@ss", "host 'host:99999'", id="query"
        ),
    ],
)
def test_url_port_invalid(url: str, message: str) -> None:
    error = url_port_error(url)
    assert error is not None
    assert message in error
    assert "pa/ss" not in error
