"""Fixtures for the core tests: example plugins in real virtual environments."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Callable
from pathlib import Path

import pytest

from sentinel.testing import install_offline

PLUGINS = Path(__file__).parent / "plugins"
SENTINEL = [sys.executable, "-m", "sentinel.core"]
# The test run's own site-packages, where sentinel and its dependencies live.
BASE_SITE = sysconfig.get_paths()["purelib"]


def make_venv(root: Path) -> Path:
    """Create a virtual environment and return its site-packages folder.

    The environment sees the test run's packages through a .pth file, so
    sentinel need not be installed again; the example plugins are installed
    into its own site-packages, where entry points are found as in production.
    """
    venv.create(root, with_pip=False, symlinks=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = root / "lib" / version / "site-packages"
    (site / "_sentinel_test_base.pth").write_text(
        f"import site; site.addsitedir({BASE_SITE!r})\n", encoding="utf-8"
    )
    return site


def venv_python(site: Path) -> Path | None:
    """Return the interpreter of the virtual environment that owns ``site``."""
    root = site.parents[2] if len(site.parents) > 2 else site
    python = root / "bin" / "python"
    if (root / "pyvenv.cfg").is_file() and python.exists():
        return python
    return None


@pytest.fixture(scope="session", autouse=True)
def private_plugin_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep in-process plugin scans out of the user's cache folder."""
    os.environ["SENTINEL_CACHE_DIR"] = str(tmp_path_factory.mktemp("plugin-cache"))


@pytest.fixture(scope="session")
def installed_plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install the broken example plugins into a virtual environment."""
    target = make_venv(tmp_path_factory.mktemp("venv-broken"))
    return install_offline(target, PLUGINS / "broken", PLUGINS / "unknown-hook")


InstallPlugins = Callable[..., Path]


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> InstallPlugins:
    """Return a function that installs example plugins (by folder) into a site.

    Each combination, in its order, is installed once per test session.
    """
    sites: dict[tuple[str, ...], Path] = {}

    def install(*names: str) -> Path:
        if names not in sites:
            target = make_venv(tmp_path_factory.mktemp("venv-" + "-".join(names)))
            for name in names:
                # One pip call per plugin keeps the install order as given.
                install_offline(target, PLUGINS / name)
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

    ``extra_path`` is one folder or a list of folders put on PYTHONPATH; a
    single site-packages folder of a virtual environment runs that
    environment's interpreter instead.
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
        command = SENTINEL
        if extra_path is not None:
            paths = extra_path if isinstance(extra_path, list) else [extra_path]
            python = venv_python(paths[0]) if len(paths) == 1 else None
            if python is not None:
                command = [str(python), "-m", "sentinel.core"]
            else:
                environ["PYTHONPATH"] = os.pathsep.join(map(str, paths))
        environ.update(env or {})
        return subprocess.run(
            [*command, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environ,
            timeout=120,
            check=False,
        )

    return run
