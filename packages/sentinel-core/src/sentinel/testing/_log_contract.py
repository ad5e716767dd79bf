"""The contract of a log handler (kind ``log.handler``)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import ClassVar

import pytest

from sentinel.core import LOG_HANDLER
from sentinel.testing._contract_base import TypeContract

DELIVERY_TIMEOUT = 30.0


def _record(
    message: str, *args: object, level: int = logging.ERROR
) -> logging.LogRecord:
    return logging.LogRecord(
        "sentinel.contract", level, __file__, 0, message, args, None
    )


class LogHandlerContract(TypeContract):
    """Checks for a handler: it is a logging.Handler that never raises into code.

    Provide the fixture ``handler``, a configured instance of the class
    under test (pointed at a local endpoint). To check delivery, also
    provide ``delivered_texts``: a function that returns the texts the
    endpoint has received so far.
    """

    kind: ClassVar[str] = LOG_HANDLER

    @pytest.fixture
    def handler(self) -> logging.Handler:
        """A configured handler of the class under test."""
        raise NotImplementedError("provide a handler fixture")

    @pytest.fixture
    def delivered_texts(self) -> Callable[[], list[str]] | None:
        """A function returning the texts delivered so far; None skips delivery."""
        return None

    def test_handler_is_instance_of_target(self, handler: logging.Handler) -> None:
        handler_class = self.implementation()
        assert issubclass(handler_class, logging.Handler)
        assert isinstance(handler, handler_class)
        handler.close()

    def test_record_is_delivered(
        self,
        handler: logging.Handler,
        delivered_texts: Callable[[], list[str]] | None,
    ) -> None:
        if delivered_texts is None:
            handler.close()
            pytest.skip("no delivered_texts fixture reads what the endpoint received")
        marker = f"contract check {uuid.uuid4().hex}"
        handler.handle(_record(marker))
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while not any(marker in text for text in delivered_texts()):
            assert time.monotonic() < deadline, f"{marker!r} was not delivered"
            time.sleep(0.05)
        handler.close()

    def test_bad_record_does_not_raise(
        self, handler: logging.Handler, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The message needs an int; a handler must report this in handleError,
        # never raise it into the code that logged.
        monkeypatch.setattr(logging, "raiseExceptions", False)
        handler.handle(_record("%d files", "three"))
        handler.close()

    def test_close_twice_does_not_raise(self, handler: logging.Handler) -> None:
        handler.close()
        handler.close()

    def test_record_after_close_does_not_raise(self, handler: logging.Handler) -> None:
        handler.close()
        handler.handle(_record("after close"))
