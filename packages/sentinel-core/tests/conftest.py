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


@pytest.fixture(scope="session", autouse=True)
def private_plugin_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep in-process plugin scans out of the user's cache folder."""
    os.environ["SENTINEL_CACHE_DIR"] = str(tmp_path_factory.mktemp("plugin-cache"))


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


def pip_install(target: Path, *sources: Path) -> None:
    """Install distributions into ``target`` the offline way the tests need."""
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
            *map(str, sources),
        ],
        check=True,
    )


InstallPlugins = Callable[..., Path]


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> InstallPlugins:
    """Return a function that installs example plugins (by folder) into a site.

    Each combination, in its order, is installed once per test session.
    """
    sites: dict[tuple[str, ...], Path] = {}

    def install(*names: str) -> Path:
        if names not in sites:
            target = tmp_path_factory.mktemp("site-" + "-".join(names))
            for name in names:
                # One pip call per plugin keeps the install order as given.
                pip_install(target, PLUGINS / name)
            sites[names] = target
        return sites[names]

    return install


RunSentinel = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """The plugin cache folder of this test's sentinel processes."""
    return tmp_path / ".cache"


@pytest.fixture
def run_sentinel(tmp_path: Path, cache_dir: Path) -> RunSentinel:
    """Run the ``sentinel`` CLI in a fresh process, in an empty working folder.

    ``extra_path`` is one folder or a list of folders put on PYTHONPATH.
    """

    def run(
        *args: str,
        extra_path: Path | list[Path] | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("SENTINEL")
        }
        environ["SENTINEL_CACHE_DIR"] = str(cache_dir)
        if extra_path is not None:
            paths = extra_path if isinstance(extra_path, list) else [extra_path]
            environ["PYTHONPATH"] = os.pathsep.join(map(str, paths))
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
