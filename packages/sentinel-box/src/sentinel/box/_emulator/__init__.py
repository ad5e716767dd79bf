"""A local Box API emulator: a folder on disk served with Box's REST API."""

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
