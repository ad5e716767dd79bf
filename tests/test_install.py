"""Installing extras from the wheels of ``make dist`` takes nothing from an index."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .conftest import REPO

DIST = REPO / "dist"
WHEELHOUSE = DIST / "wheelhouse"


@pytest.fixture(scope="module")
def wheels() -> Path:
    if not list(DIST.glob("sentinel_core-*.whl")) or not WHEELHOUSE.is_dir():
        pytest.skip("no wheels in dist/; run `make dist` first (make test does)")
    return DIST


def test_extras_install_only_named_plugins(wheels: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--find-links",
            str(wheels),
            "--find-links",
            str(WHEELHOUSE),
            "sentinel-core[box,queue]",
        ],
        check=True,
    )
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    names = {package["name"] for package in json.loads(listed.stdout)}
    sentinel = {name for name in names if name.startswith("sentinel")}
    assert sentinel == {"sentinel-core", "sentinel-box", "sentinel-queue"}

    plugins = subprocess.run(
        [str(env_dir / "bin" / "sentinel"), "plugins", "--json"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    status = {record["id"]: record["status"] for record in json.loads(plugins.stdout)}
    assert status == {"core": "loaded", "box": "loaded", "queue": "loaded"}


def test_no_distribution_ships_namespace_init() -> None:
    inits = list(REPO.glob("packages/*/src/sentinel/__init__.py"))
    assert inits == []


def test_every_distribution_is_typed() -> None:
    for package in sorted(REPO.glob("packages/sentinel-*")):
        name = package.name.removeprefix("sentinel-")
        assert (package / "src" / "sentinel" / name / "py.typed").is_file(), name


@pytest.mark.parametrize(
    "name", ["core", "files", "queue", "box", "web", "log"], ids=str
)
def test_public_api_sorted_all(name: str) -> None:
    module = __import__(f"sentinel.{name}", fromlist=["__all__"])
    exported = list(module.__all__)
    assert exported == sorted(exported)
    for attribute in exported:
        assert hasattr(module, attribute), attribute
    assert sys.modules[f"sentinel.{name}"].__doc__
