"""The queue-task contract of sentinel.testing, run on the queue's test task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sentinel.testing.contracts import QueueTaskContract

PLUGIN_DIR = Path(__file__).parent / "plugins"


class TestEchoTaskContract(QueueTaskContract):
    target = "queue_test_tasks:echo"
    type_name = "qtest.echo"
    plugin = "queue_test_tasks"

    @pytest.fixture(autouse=True)
    def plugin_on_path(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.syspath_prepend(str(PLUGIN_DIR))

    @pytest.fixture
    def valid_payload(self) -> dict[str, Any]:
        return {"value": 42, "items": ["a", "b"]}
