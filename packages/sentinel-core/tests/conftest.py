"""Fixtures for the core tests: real plugin distributions installed into a folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PLUGINS = Path(__file__).parent / "plugins"
SENTINEL = [sys.executable, "-m", "sentinel.core"]


@pytest.fixture(scope="session")
def installed_plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install the example plugin distributions into a folder for PYTHONPATH."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(PLUGINS / "broken"),
            str(PLUGINS / "unknown-hook"),
        ],
        check=True,
    )
    return target


RunSentinel = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_sentinel(tmp_path: Path) -> RunSentinel:
    """Run the ``sentinel`` CLI in a fresh process, in an empty working folder."""

    def run(
        *args: str, extra_path: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("SENTINEL")
        }
        if extra_path is not None:
            environ["PYTHONPATH"] = str(extra_path)
        environ.update(env or {})
        return subprocess.run(
            [*SENTINEL, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environ,
            timeout=120,
            check=False,
        )

    return run
