"""Fixtures for the sentinel-log tests: local HTTP endpoints that record requests."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest


@dataclass
class Recorded:
    """One request that reached an endpoint."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}

    def basic_auth(self) -> tuple[str, str]:
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        assert scheme == "Basic"
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user, password


@dataclass
class Endpoint:
    """A local HTTP server that records requests and replies with a set status.

    Each request takes the next status from ``statuses``, and ``status`` once
    that list is empty.
    While ``gate`` is clear, every request waits for it, which lets a test
    hold the handler's sender thread inside a request.
    """

    url: str = ""
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    received: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(request)
            status = self.statuses.pop(0) if self.statuses else self.status
        self.received.set()
        self.gate.wait(30)
        return status, self.body

    def texts(self) -> list[str]:
        """Return the Slack message texts received, in order."""
        with self.lock:
            return [request.json()["text"] for request in self.requests]


def _serve(endpoint: Endpoint) -> Iterator[Endpoint]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            recorded = Recorded(
                "POST", self.path, dict(self.headers.items()), self.rfile.read(length)
            )
            status, body = endpoint.record(recorded)
            payload = json.dumps(body if status < 400 else {"ok": False}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in endpoint.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            endpoint.answered.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean; the test reads endpoint.requests

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}"
    endpoint.gate.set()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint.gate.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def slack_api() -> Iterator[Endpoint]:
    """A local stand-in for the Slack Web API that accepts every message."""
    endpoint = Endpoint(body={"ok": True, "channel": "C123", "ts": "1700000000.000100"})
    yield from _serve(endpoint)


@pytest.fixture
def twilio_api() -> Iterator[Endpoint]:
    """A local stand-in for the Twilio REST API that accepts every message."""
    endpoint = Endpoint(
        status=201,
        body={"sid": "SM00000000000000000000000000000000", "status": "queued"},
    )
    yield from _serve(endpoint)


@pytest.fixture
def isolated_logging() -> Iterator[None]:
    """Restore the root logger's handlers and level after a test changes them."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    level = root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


SLACK_TOKEN = "xoxb-1111-2222-testtoken"


@pytest.fixture
def make_slack(slack_api: Endpoint) -> Iterator[Any]:
    """Build SlackHandlers that post to ``slack_api`` with fast retries."""
    from sentinel.log import SlackHandler

    handlers: list[SlackHandler] = []

    def make(**options: Any) -> SlackHandler:
        settings: dict[str, Any] = {
            "base_url": f"{slack_api.url}/api/",
            "retry_backoff": 0.01,
            "close_timeout": 10.0,
        }
        settings.update(options)
        handler = SlackHandler(SLACK_TOKEN, "#alerts", **settings)
        handlers.append(handler)
        return handler

    yield make
    slack_api.gate.set()
    for handler in handlers:
        handler.close()
