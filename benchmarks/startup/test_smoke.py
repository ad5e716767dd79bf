"""Run the start-up benchmark with 10 extra distributions; check output, not speed."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).resolve().parent
EXTRA = 10


def _load_run() -> ModuleType:
    # The benchmark is a folder of scripts, so load run.py by path under a
    # name that no other benchmark folder uses.
    spec = importlib.util.spec_from_file_location(
        "startup_benchmark_run", HERE / "run.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], str]:
    """Run the benchmark once: sentinel only, linked site-packages, one run each."""
    folder = tmp_path_factory.mktemp("startup")
    output = folder / "timings.json"
    result = subprocess.run(
        [
            sys.executable,
            str(HERE / "run.py"),
            "--link-site",
            "--tools",
            "sentinel",
            "--extra",
            str(EXTRA),
            "--runs",
            "1",
            "--env-dir",
            str(folder / "venv"),
            "--json",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(output.read_text()), result.stdout


def test_smoke_times_both_scenarios(bench_run: tuple[list[dict], str]) -> None:
    timings, _stdout = bench_run

    scenarios = {(t["scenario"], t["name"]) for t in timings}

    for scenario in ("plugins only", f"+{EXTRA} distributions"):
        assert (scenario, "sentinel --help") in scenarios
        assert (scenario, "sentinel plugins --json") in scenarios
        assert (scenario, "floor: python -c 'import click'") in scenarios


def test_smoke_commands_succeed(bench_run: tuple[list[dict], str]) -> None:
    timings, _stdout = bench_run

    errors = {t["name"]: t["error"] for t in timings if t["error"]}

    assert errors == {}
    assert all(t["median_ms"] > 0 for t in timings)


def test_smoke_prints_table_and_goal(bench_run: tuple[list[dict], str]) -> None:
    _timings, stdout = bench_run

    assert "| scenario | command | median ms | min ms | x floor |" in stdout
    assert "sentinel --help:" in stdout
    assert "goal met" in stdout or "goal missed" in stdout


def test_extra_distributions_have_entry_points(tmp_path: Path) -> None:
    run = _load_run()
    python = run.build_env(tmp_path / "venv", ["sentinel"], link_site=True)

    run.add_extra_distributions(python, 3)
    listed = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, json; print(json.dumps(sorted("
            "(d.metadata['Name'], [e.group for e in d.entry_points]) "
            "for d in m.distributions() "
            "if d.metadata['Name'].startswith('startup_bench_extra_'))))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    run.remove_extra_distributions(python)

    found = json.loads(listed.stdout)
    assert [name for name, _groups in found] == [
        "startup_bench_extra_0000",
        "startup_bench_extra_0001",
        "startup_bench_extra_0002",
    ]
    assert all(len(groups) == 1 for _name, groups in found)
    assert not list(run._site_packages(python).glob("startup_bench_extra_*"))
