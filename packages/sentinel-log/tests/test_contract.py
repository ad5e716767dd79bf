"""The log-handler contract of sentinel.testing, run on the Slack handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sentinel.log import SlackHandler
from sentinel.testing.contracts import LogHandlerContract


class TestSlackHandlerContract(LogHandlerContract):
    target = "sentinel.log._slack:SlackHandler"
    type_name = "slack"

    @pytest.fixture
    def handler(self, slack_api: Any) -> SlackHandler:
        return SlackHandler(
            "xoxb-contract",
            "#alerts",
            base_url=slack_api.url + "/api/",
            retries=0,
            close_timeout=5.0,
        )

    @pytest.fixture
    def delivered_texts(self, slack_api: Any) -> Callable[[], list[str]]:
        return slack_api.texts
