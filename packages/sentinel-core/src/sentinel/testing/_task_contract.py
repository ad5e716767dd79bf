"""The contract of a queue task (kind ``queue.task``)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from sentinel.core import QUEUE_TASK, PermanentTaskError, TypeRegistry, TypeSpec
from sentinel.testing._context import LocalTaskContext
from sentinel.testing._contract_base import TypeContract

if TYPE_CHECKING:
    from sentinel.queue import EmbeddedRedis, Queue


class QueueTaskContract(TypeContract):
    """Checks for a task: its signature, a JSON result, permanent bad input.

    Provide the fixture ``valid_payload`` and, for a task that validates its
    input, ``invalid_payload`` (a payload that retrying cannot fix). Override
    ``task_config`` to give the task the config it reads, for example a
    ``box`` section that points at the ``box_emulator`` fixture. The worker
    checks run the task on a real worker against the embedded server and are
    skipped when sentinel-queue is not installed.
    """

    kind: ClassVar[str] = QUEUE_TASK

    @pytest.fixture
    def valid_payload(self) -> dict[str, Any]:
        """A payload the task completes."""
        raise NotImplementedError("provide a valid_payload fixture")

    @pytest.fixture
    def invalid_payload(self) -> dict[str, Any] | None:
        """A payload the task rejects as permanent; None skips those checks."""
        return None

    @pytest.fixture
    def task_config(self) -> dict[str, Any]:
        """The merged config the task sees as ``ctx.config``."""
        return {}

    @pytest.fixture
    def contract_queue(self, sentinel_redis: EmbeddedRedis) -> Iterator[Queue]:
        """A queue on the embedded server, with two retries."""
        from sentinel.queue import Queue

        queue = Queue.from_url(sentinel_redis.url, "contract", max_retries=2)
        yield queue
        queue.client.close()

    def _name(self) -> str:
        return self.type_name or "contract.task"

    def _registry(self) -> TypeRegistry:
        registry = TypeRegistry()
        registry.add(TypeSpec(QUEUE_TASK, self._name(), self.target), "contract")
        return registry

    def test_accepts_context_and_payload(self) -> None:
        task = self.implementation()
        assert callable(task)
        signature = inspect.signature(task)
        signature.bind(LocalTaskContext(self._name()), {})

    def test_valid_payload_returns_json(
        self, valid_payload: dict[str, Any], task_config: dict[str, Any]
    ) -> None:
        context = LocalTaskContext(self._name(), task_config, self._registry())
        result = self.implementation()(context, dict(valid_payload))
        assert json.loads(json.dumps(result)) == result
        for fraction, _message in context.progress_reports:
            assert 0.0 <= fraction <= 1.0

    def test_invalid_payload_is_permanent(
        self, invalid_payload: dict[str, Any] | None, task_config: dict[str, Any]
    ) -> None:
        if invalid_payload is None:
            pytest.skip("no invalid_payload fixture returns a payload to reject")
        context = LocalTaskContext(self._name(), task_config, self._registry())
        with pytest.raises(PermanentTaskError):
            self.implementation()(context, dict(invalid_payload))

    def test_completes_on_worker(
        self,
        contract_queue: Queue,
        valid_payload: dict[str, Any],
        task_config: dict[str, Any],
    ) -> None:
        job_id = contract_queue.enqueue(self._name(), valid_payload)
        self._drain(contract_queue, task_config)
        done = {job["id"]: job for job in contract_queue.recent("done")}
        assert job_id in done, contract_queue.recent("failed")
        assert done[job_id]["attempts"] == 1

    def test_invalid_payload_fails_once_on_worker(
        self,
        contract_queue: Queue,
        invalid_payload: dict[str, Any] | None,
        task_config: dict[str, Any],
    ) -> None:
        if invalid_payload is None:
            pytest.skip("no invalid_payload fixture returns a payload to reject")
        job_id = contract_queue.enqueue(self._name(), invalid_payload)
        self._drain(contract_queue, task_config)
        failed = {job["id"]: job for job in contract_queue.recent("failed")}
        assert job_id in failed
        assert failed[job_id]["attempts"] == 1
        assert failed[job_id]["error"]

    def _drain(self, queue: Queue, config: dict[str, Any]) -> None:
        from sentinel.queue import Worker

        worker = Worker(queue, self._registry(), config=config, retry_backoff=0.01)
        worker.run(burst=True)
