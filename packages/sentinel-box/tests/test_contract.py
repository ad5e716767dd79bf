"""The queue-task contract of sentinel.testing, run on box.upload and the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sentinel.testing.contracts import QueueTaskContract

if TYPE_CHECKING:
    from sentinel.box import BoxEmulator


class TestBoxUploadContract(QueueTaskContract):
    target = "sentinel.box._tasks:box_upload"
    type_name = "box.upload"

    @pytest.fixture
    def task_config(self, box_emulator: BoxEmulator) -> dict[str, Any]:
        return {
            "box": {
                "api_url": box_emulator.api_url,
                "upload_url": box_emulator.upload_url,
                "oauth_url": box_emulator.oauth_url,
                "auth": {"developer_token": "contract-token"},
            }
        }

    @pytest.fixture
    def valid_payload(self, tmp_path: Path) -> dict[str, Any]:
        path = tmp_path / "report.csv"
        path.write_text("id,total\n1,9.5\n", encoding="utf-8")
        return {"path": str(path), "folder": "/Contract", "relative": "q1/report.csv"}

    @pytest.fixture
    def invalid_payload(self) -> dict[str, Any]:
        return {"folder": "/Contract"}
