"""Tests of the public API of sentinel.log and of handler life cycle edge cases."""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest

import sentinel.log
from sentinel.core import SentinelError
from sentinel.log import HandlerConfigError, LogHandlerError


def record(msg: str) -> logging.LogRecord:
    return logging.LogRecord("app", logging.ERROR, __file__, 1, msg, None, None)


def test_all_sorted_and_importable() -> None:
    assert sentinel.log.__all__ == sorted(sentinel.log.__all__)
    for name in sentinel.log.__all__:
        assert getattr(sentinel.log, name) is not None


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="NoSuchHandler"):
        _ = sentinel.log.NoSuchHandler


def test_errors_share_one_root() -> None:
    assert issubclass(LogHandlerError, SentinelError)
    assert issubclass(HandlerConfigError, LogHandlerError)
    assert issubclass(HandlerConfigError, ValueError)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_sends_with_own_thread(make_slack: Any, slack_api: Any) -> None:
    handler = make_slack()
    handler.handle(record("from parent"))
    handler.flush()

    pid = os.fork()
    if pid == 0:
        # The child inherits the handler but not its sender thread.
        code = 1
        try:
            handler.handle(record("from child"))
            handler.close()
            code = 0 if handler.stats()["sent"] == 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    handler.close()

    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(slack_api.texts()) == [
        "ERROR app: from child",
        "ERROR app: from parent",
    ]
