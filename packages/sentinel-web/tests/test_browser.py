"""Browser test: the dashboard in Debian's chromium follows the live agent."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sentinel.core import Agent
from sentinel.queue import Queue
from sentinel.web import WebServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Upper bound for the page to show a change, so a broken page fails instead
# of hanging. The tests check what the page shows, never how fast.
WAIT_MS = 20_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: run 'make chromium'"
    ),
]


def fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=20) as response:
        return json.load(response)


@pytest.fixture
def server(agent: Agent) -> Iterator[WebServer]:
    web_server = WebServer(agent, port=0)
    web_server.start()
    yield web_server
    web_server.stop()


@pytest.fixture
def page(server: WebServer) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            browser_page = browser.new_page()
            # Any request to another host would show the page is not
            # self-contained; abort it and keep a record.
            outside: list[str] = []

            def guard(route: Any) -> None:
                if route.request.url.startswith(server.url):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            browser_page.route("**/*", guard)
            browser_page.outside_requests = outside
            yield browser_page
        finally:
            browser.close()


def text_of(page: Any, test_id: str) -> str:
    return str(page.get_by_test_id(test_id).inner_text())


def wait_for_text(page: Any, test_id: str, expected: str) -> None:
    page.wait_for_function(
        '([id, text]) => document.querySelector(`[data-testid="${id}"]`)'
        "?.textContent === text",
        arg=[test_id, expected],
        timeout=WAIT_MS,
    )


def test_dashboard_follows_agent(
    page: Any, server: WebServer, agent: Agent, queue: Queue, jobs: Any, folders: Any
) -> None:
    jobs.fail("files.process", {"relative": "bad.csv"}, "bad header in bad.csv")
    agent.events.record("file", path="inbox/first.csv", route="inbox", action="ready")

    page.goto(server.url)
    wait_for_text(page, "connection", "live")
    wait_for_text(page, "queue-failed", "1")

    status = fetch_json(f"{server.url}api/status")
    for state in ("queued", "active", "delayed", "done", "failed"):
        assert text_of(page, f"queue-{state}") == str(status["queue"][state]), state
    for state in ("inbox", "processed", "failed"):
        expected = str(status["folders"]["inbox"][state])
        assert text_of(page, f"folder-inbox-{state}") == expected, state
    assert text_of(page, "plugin-web-status") == "loaded"
    page.get_by_test_id("jobs-failed").get_by_text("bad header in bad.csv").wait_for(
        timeout=WAIT_MS
    )
    assert "inbox/first.csv" in text_of(page, "events")

    # Changes after the page loaded arrive without a reload.
    jobs.finish("box.upload", {"relative": "good.csv"}, {"id": "42"})
    queue.enqueue("box.upload", {"relative": "waiting.csv"})
    folders.routes["inbox"]["processed"] = 6
    agent.events.record(
        "file", path="inbox/<b>second</b>.csv", route="inbox", action="processed"
    )
    wait_for_text(page, "queue-done", "1")
    wait_for_text(page, "queue-queued", "1")
    wait_for_text(page, "folder-inbox-processed", "6")
    page.get_by_test_id("events").get_by_text("inbox/<b>second</b>.csv").wait_for(
        timeout=WAIT_MS
    )
    page.get_by_test_id("jobs-done").get_by_text("good.csv").wait_for(timeout=WAIT_MS)

    # The file name was shown as text: no element came from its markup.
    assert page.locator("[data-testid=events] b").count() == 0
    assert page.outside_requests == []


def test_dashboard_polls_without_stream(
    page: Any, server: WebServer, agent: Agent, jobs: Any
) -> None:
    # A proxy that drops the stream: the page must fall back to polling.
    page.route("**/api/stream*", lambda route: route.abort())
    page.goto(server.url)
    wait_for_text(page, "connection", "polling")

    jobs.finish("box.upload", {"relative": "polled.csv"}, None)
    agent.events.record("file", path="inbox/polled.csv", route="inbox", action="ready")

    wait_for_text(page, "queue-done", "1")
    page.get_by_test_id("events").get_by_text("inbox/polled.csv").wait_for(
        timeout=WAIT_MS
    )
    page.get_by_test_id("jobs-done").get_by_text("polled.csv").wait_for(timeout=WAIT_MS)
