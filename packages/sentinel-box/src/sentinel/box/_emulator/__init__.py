"""A local Box API emulator: a folder on disk served with Box's REST API.

Start it from Python with ``BoxEmulator(root, config=EmulatorConfig(...))``
or from the command line with ``sentinel box emulator --root DIR --port N``
plus ``--config FILE`` (YAML or JSON with the fields of EmulatorConfig, and
``box_limits: true`` for Box's published limits) or ``--limit upload=20/s``.

Tests drive it through ``emulator.faults`` (errors, drops and delays, before
or after the request takes effect), ``emulator.requests`` (counts by
endpoint, token, status, grant type and limit class), ``set_limits``,
``expire_access_tokens`` and ``issue_oauth_tokens``. Over HTTP the same
controls are ``POST``/``DELETE /_emulator/faults``, ``GET``/``DELETE
/_emulator/requests`` and ``POST /_emulator/tokens/expire``.
"""

from __future__ import annotations

from sentinel.box._emulator._config import EmulatorConfig, RateLimit, load_config
from sentinel.box._emulator._faults import Fault, FaultPlan
from sentinel.box._emulator._requests import RequestLog, RequestRecord
from sentinel.box._emulator._server import BoxEmulator
from sentinel.box._emulator._store import EmulatorStore

__all__ = [
    "BoxEmulator",
    "EmulatorConfig",
    "EmulatorStore",
    "Fault",
    "FaultPlan",
    "RateLimit",
    "RequestLog",
    "RequestRecord",
    "load_config",
]
