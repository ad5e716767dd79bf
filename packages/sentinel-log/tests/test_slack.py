"""Tests of SlackHandler against a local Slack Web API endpoint."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import pytest

from sentinel.log import HandlerConfigError, SlackHandler

TOKEN = "xoxb-1111-2222-testtoken"


def record(msg: str, *args: Any, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("app", level, __file__, 1, msg, args or None, None)


def test_slack_handler_posts_channel_and_text(make_slack: Any, slack_api: Any) -> None:
    handler = make_slack()

    handler.handle(record("disk full on %s", "/data"))
    handler.close()

    assert len(slack_api.requests) == 1
    request = slack_api.requests[0]
    assert request.path == "/api/chat.postMessage"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    body = request.json()
    assert body["channel"] == "#alerts"
    assert body["text"] == "ERROR app: disk full on /data"
    assert handler.stats()["sent"] == 1


def test_slack_handler_escapes_markup(make_slack: Any, slack_api: Any) -> None:
    handler = make_slack()

    handler.handle(record("failed in <module> & %s", "a>b"))
    handler.close()

    assert slack_api.texts() == ["ERROR app: failed in &lt;module&gt; &amp; a&gt;b"]


def test_emit_returns_before_slow_endpoint_answers(
    make_slack: Any, slack_api: Any
) -> None:
    handler = make_slack()
    slack_api.gate.clear()

    handler.handle(record("first"))
    # The endpoint keeps the request open until the gate opens, so the handler's
    # sender thread is still waiting for an answer now.
    assert slack_api.received.wait(10)
    handler.handle(record("second"))
    assert not slack_api.answered.is_set()

    slack_api.gate.set()
    handler.close()
    assert slack_api.answered.is_set()
    assert slack_api.texts() == ["ERROR app: first", "ERROR app: second"]


def test_queue_overflow_drops_and_reports_count(
    make_slack: Any, slack_api: Any
) -> None:
    handler = make_slack(queue_size=2)
    slack_api.gate.clear()
    handler.handle(record("held"))
    assert slack_api.received.wait(10)

    for number in range(5):
        handler.handle(record(f"message {number}"))
    assert handler.stats()["dropped"] == 3

    slack_api.gate.set()
    handler.close()
    texts = slack_api.texts()
    assert texts[:3] == [
        "ERROR app: held",
        "ERROR app: message 0",
        "ERROR app: message 1",
    ]
    assert len(texts) == 4
    assert texts[3].startswith("3 messages dropped")


def test_flood_control_collapses_repeats(make_slack: Any, slack_api: Any) -> None:
    handler = make_slack(flood_window=3600)

    for number in range(50):
        handler.handle(record("disk full on %s", f"/data/{number}"))
    handler.handle(record("another problem"))
    handler.close()

    texts = slack_api.texts()
    assert len(texts) == 3
    assert texts[0] == "ERROR app: disk full on /data/0"
    assert texts[1] == "ERROR app: another problem"
    assert texts[2].startswith("ERROR app: disk full on /data/49\n")
    assert "repeated 49 more times" in texts[2]


def test_flood_control_keys_on_level(make_slack: Any, slack_api: Any) -> None:
    handler = make_slack(flood_window=3600)

    handler.handle(record("disk full", level=logging.ERROR))
    handler.handle(record("disk full", level=logging.CRITICAL))
    handler.close()

    assert slack_api.texts() == ["ERROR app: disk full", "CRITICAL app: disk full"]


def test_secrets_redacted_in_sent_text(make_slack: Any, slack_api: Any) -> None:
    handler = make_slack(secrets=["configured-s3cret-value"])

    handler.handle(
        record(
            "login %s failed: password=hunter2 header Authorization: Bearer abc.def "
            "token %s secret configured-s3cret-value url redis://:pw1234@host:6379",
            "alice",
            TOKEN,
        )
    )
    handler.close()

    text = slack_api.texts()[0]
    for secret in ("hunter2", "abc.def", TOKEN, "configured-s3cret-value", "pw1234"):
        assert secret not in text
    assert "password=***" in text
    assert "Authorization: Bearer ***" in text
    assert "redis://:***@host:6379" in text
    assert "login alice failed" in text


def test_server_error_retried_until_sent(make_slack: Any, slack_api: Any) -> None:
    slack_api.statuses = [500, 503]
    handler = make_slack(retries=3)

    handler.handle(record("flaky"))
    handler.close()

    assert len(slack_api.requests) == 3
    assert handler.stats() == {"sent": 1, "failed": 0, "dropped": 0, "suppressed": 0}


def test_rate_limit_retried_after_delay(make_slack: Any, slack_api: Any) -> None:
    slack_api.statuses = [429]
    slack_api.headers = {"Retry-After": "0"}
    handler = make_slack(retries=1)

    handler.handle(record("busy"))
    handler.close()

    assert len(slack_api.requests) == 2
    assert handler.stats()["sent"] == 1


def test_failing_endpoint_never_raises(
    make_slack: Any, slack_api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    slack_api.status = 500
    handler = make_slack(retries=2)
    logger = logging.getLogger("sentinel.tests.failing")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.error("cannot reach %s with token %s", "box", TOKEN)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    handler.close()

    assert len(slack_api.requests) == 3
    assert handler.stats()["failed"] == 1
    stderr = capsys.readouterr().err
    assert "SlackHandler: could not send to #alerts after 3 attempts" in stderr
    assert "cannot reach box with token ***" in stderr
    assert TOKEN not in stderr


def test_rejected_token_not_retried(
    make_slack: Any, slack_api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    slack_api.body = {"ok": False, "error": "invalid_auth"}
    handler = make_slack(retries=3)

    handler.handle(record("alert"))
    handler.close()

    assert len(slack_api.requests) == 1
    stderr = capsys.readouterr().err
    assert "after 1 attempt:" in stderr
    assert "invalid_auth" in stderr


def test_unreachable_endpoint_falls_back_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A port that was just free has no listener, so connecting is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = SlackHandler(
        TOKEN,
        "#alerts",
        base_url=f"http://127.0.0.1:{port}/api/",
        retries=1,
        retry_backoff=0.01,
    )

    handler.handle(record("nobody listens"))
    handler.close()

    assert handler.stats()["failed"] == 1
    assert "nobody listens" in capsys.readouterr().err


def test_sdk_records_not_sent_back(
    make_slack: Any, slack_api: Any, isolated_logging: None
) -> None:
    handler = make_slack(level=logging.DEBUG)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)

    logging.getLogger("app").error("only this one")
    handler.close()

    assert slack_api.texts() == ["ERROR app: only this one"]


def test_close_sends_pending_and_is_idempotent(make_slack: Any, slack_api: Any) -> None:
    handler = make_slack()
    for number in range(3):
        handler.handle(record(f"pending {number}"))

    handler.close()
    handler.close()
    handler.handle(record("after close"))

    assert slack_api.texts() == [f"ERROR app: pending {n}" for n in range(3)]


def test_flush_waits_for_queued_messages(make_slack: Any, slack_api: Any) -> None:
    handler = make_slack()

    handler.handle(record("flushed"))
    handler.flush()

    assert slack_api.texts() == ["ERROR app: flushed"]


def test_long_text_truncated(make_slack: Any, slack_api: Any) -> None:
    handler = make_slack()

    handler.handle(record("x" * 10_000))
    handler.close()

    text = slack_api.texts()[0]
    assert len(text) == SlackHandler.max_length
    assert text.endswith("...")


@pytest.mark.parametrize(
    ("token", "channel", "expected"),
    [
        pytest.param("", "#alerts", "needs a token", id="no-token"),
        pytest.param(TOKEN, "", "needs a channel", id="no-channel"),
    ],
)
def test_slack_handler_rejects_missing_setting(
    token: str, channel: str, expected: str
) -> None:
    with pytest.raises(HandlerConfigError, match=expected):
        SlackHandler(token, channel)


def test_handler_rejects_empty_queue() -> None:
    with pytest.raises(HandlerConfigError, match="queue_size=0"):
        SlackHandler(TOKEN, "#alerts", queue_size=0)


def test_sender_survives_failing_summary(
    make_slack: Any, slack_api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = make_slack(flood_window=0.05)
    handler.handle(record("count %d", 1))
    # Suppressed, so only the flood summary formats it, and "%d" % "x" fails.
    handler.handle(record("count %d", "x"))
    deadline = time.monotonic() + 10
    while handler.stats()["suppressed"] and time.monotonic() < deadline:
        time.sleep(0.01)

    handler.handle(record("later"))
    handler.close()

    assert slack_api.texts() == ["ERROR app: count 1", "ERROR app: later"]
    assert "sending failed: TypeError" in capsys.readouterr().err


def test_close_gives_up_after_timeout(
    make_slack: Any, slack_api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = make_slack(close_timeout=0.2)
    slack_api.gate.clear()
    handler.handle(record("stuck"))
    assert slack_api.received.wait(10)
    handler.handle(record("never sent"))

    # The endpoint never answers while the gate is closed, so close() can
    # only return by giving up.
    handler.close()

    assert not slack_api.answered.is_set()
    assert "were not sent within close_timeout=0.2 s" in capsys.readouterr().err
