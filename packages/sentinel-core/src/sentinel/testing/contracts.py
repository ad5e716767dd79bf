"""Contract tests that a plugin runs against its own types.

Subclass a contract in a test module, set ``target`` (the import target the
plugin declares) and ``type_name``, and provide the fixtures the contract
names; pytest then runs every check of the contract on that type::

    from sentinel.testing.contracts import QueueTaskContract

    class TestGreet(QueueTaskContract):
        target = "sentinel_greet.tasks:greet"
        type_name = "greet.hello"

        @pytest.fixture
        def valid_payload(self, tmp_path):
            return {"name": "Ada"}

Contracts check what the host and the other plugins rely on, not what the
type does; a plugin still writes its own tests for that.
"""

from __future__ import annotations

from sentinel.testing._contract_base import TypeContract
from sentinel.testing._file_contract import FileFormatContract
from sentinel.testing._log_contract import LogHandlerContract
from sentinel.testing._task_contract import QueueTaskContract
from sentinel.testing._web_contract import WebRoutesContract

__all__ = [
    "FileFormatContract",
    "LogHandlerContract",
    "QueueTaskContract",
    "TypeContract",
    "WebRoutesContract",
]
