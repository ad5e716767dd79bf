"""Tests of ``sentinel plugin new``: names, rendering, and the generated plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sentinel.core import CORE_API_VERSION
from sentinel.core._manifest import parse_declarations
from sentinel.core._scaffold import (
    PluginNames,
    ScaffoldError,
    api_range,
    render_plugin,
)
from sentinel.core._version import in_range
from sentinel.testing import install_offline

from .conftest import RunSentinel

GENERATED_FILES = [
    "README.md",
    "pyproject.toml",
    "src/sentinel_acme_reports/__init__.py",
    "src/sentinel_acme_reports/plugin.py",
    "src/sentinel_acme_reports/plugin.toml",
    "src/sentinel_acme_reports/py.typed",
    "src/sentinel_acme_reports/tasks.py",
    "tests/test_plugin.py",
]


@pytest.mark.parametrize(
    ("name", "plugin_id"),
    [
        ("acme-reports", "acme-reports"),
        ("sentinel-acme-reports", "acme-reports"),
        ("Acme_Reports", "acme-reports"),
        ("ftp2", "ftp2"),
    ],
    ids=["plain", "distribution-prefix", "case-and-underscore", "digit"],
)
def test_plugin_names_from_name(name: str, plugin_id: str) -> None:
    names = PluginNames.from_name(name)

    assert names.plugin_id == plugin_id
    assert names.distribution == f"sentinel-{plugin_id}"
    assert names.package == "sentinel_" + plugin_id.replace("-", "_")


@pytest.mark.parametrize(
    "name",
    ["", "2fast", "acme--reports", "acme reports", "acme-", "rapports-été"],
    ids=["empty", "leading-digit", "double-hyphen", "space", "trailing", "accent"],
)
def test_plugin_names_reject_invalid(name: str) -> None:
    with pytest.raises(ScaffoldError, match="invalid"):
        PluginNames.from_name(name)


def test_render_plugin_writes_every_file(tmp_path: Path) -> None:
    destination = tmp_path / "out"

    written = render_plugin(PluginNames.from_name("acme-reports"), destination)

    relative = sorted(path.relative_to(destination).as_posix() for path in written)
    assert relative == GENERATED_FILES
    for path in written:
        text = path.read_text("utf-8")
        assert "${" not in text, path
        if path.suffix == ".py":
            compile(text, str(path), "exec")
    declarations = parse_declarations(
        tomllib.loads((destination / GENERATED_FILES[4]).read_text("utf-8")),
        "plugin.toml",
    )
    assert declarations.api == api_range()
    assert [spec.name for spec in declarations.types] == ["acme-reports.hello"]
    assert [section.name for section in declarations.sections] == ["acme-reports"]
    pyproject = (destination / "pyproject.toml").read_text("utf-8")
    assert 'acme-reports = "sentinel_acme_reports.plugin"' in pyproject
    assert 'name = "sentinel-acme-reports"' in pyproject


def test_render_plugin_rejects_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")

    with pytest.raises(ScaffoldError, match="not empty"):
        render_plugin(PluginNames.from_name("acme"), tmp_path)

    assert (tmp_path / "keep.txt").read_text("utf-8") == "mine"


def test_plugin_new_command_creates_folder(
    run_sentinel: RunSentinel, tmp_path: Path
) -> None:
    result = run_sentinel("plugin", "new", "acme-reports")

    assert result.returncode == 0, result.stderr
    assert "created sentinel-acme-reports" in result.stdout
    assert (tmp_path / "sentinel-acme-reports" / "pyproject.toml").is_file()


def test_plugin_new_installs_with_this_python(
    run_sentinel: RunSentinel, tmp_path: Path
) -> None:
    # The bare name sentinel-core on an index is another project, so the
    # next step uses the interpreter that already has this sentinel-core.
    result = run_sentinel("plugin", "new", "acme-reports")

    assert result.returncode == 0, result.stderr
    assert f"{sys.executable} -m pip install -e '.[test]'" in result.stdout
    assert "next: pip install" not in result.stdout
    readme = (tmp_path / "sentinel-acme-reports" / "README.md").read_text("utf-8")
    assert "unrelated project" in readme
    assert "--no-index --find-links" in readme
    assert "\n    pip install" not in readme


def test_plugin_new_command_rejects_bad_name(run_sentinel: RunSentinel) -> None:
    result = run_sentinel("plugin", "new", "2fast")

    assert result.returncode == 2
    assert "plugin name '2fast' is invalid" in result.stderr


def test_plugin_docs_command_lists_hooks(run_sentinel: RunSentinel) -> None:
    result = run_sentinel("plugin", "docs")

    assert result.returncode == 0, result.stderr
    assert "### `sentinel_types`" in result.stdout
    assert "def sentinel_startup(agent: Agent) -> None" in result.stdout


@pytest.fixture(scope="module")
def generated_plugin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Generate the acme-reports plugin and pip-install it into a folder.

    Returns the project folder and the install folder for PYTHONPATH.
    """
    root = tmp_path_factory.mktemp("generated")
    project = root / "sentinel-acme-reports"
    render_plugin(PluginNames.from_name("acme-reports"), project)
    site = install_offline(root / "site", project)
    return project, site


def test_generated_plugin_is_listed_loaded(
    generated_plugin: tuple[Path, Path], run_sentinel: RunSentinel
) -> None:
    _project, site = generated_plugin

    result = run_sentinel("plugins", "--json", extra_path=site)

    assert result.returncode == 0, result.stderr
    plugins = {record["id"]: record for record in json.loads(result.stdout)}
    assert plugins["acme-reports"]["distribution"] == "sentinel-acme-reports"
    assert plugins["acme-reports"]["status"] == "loaded"


def test_api_range_admits_this_core() -> None:
    assert in_range(CORE_API_VERSION, api_range())


def test_generated_plugin_passes_own_tests(
    generated_plugin: tuple[Path, Path],
) -> None:
    project, site = generated_plugin
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL")}
    environ["PYTHONPATH"] = str(site)

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout
