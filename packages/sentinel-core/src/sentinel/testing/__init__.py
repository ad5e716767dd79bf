"""Test helpers for sentinel plugins: fixtures, a task context, contract tests.

Installing sentinel-core registers :mod:`sentinel.testing.plugin` with pytest,
so its fixtures are available in every test suite of the environment. Contract
tests live in :mod:`sentinel.testing.contracts`.
"""

from __future__ import annotations

from sentinel.testing._agent import RunningAgent, agent_config
from sentinel.testing._context import LocalTaskContext, run_task
from sentinel.testing._install import install_offline
from sentinel.testing._process import AgentProcess

__all__ = [
    "AgentProcess",
    "LocalTaskContext",
    "RunningAgent",
    "agent_config",
    "install_offline",
    "run_task",
]
