"""A small run of the Box upload benchmark, to keep it working."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.timeout(120)


def _load() -> ModuleType:
    # The benchmark is a script, not a package, so it is loaded by path under
    # a name no other benchmark folder uses.
    path = Path(__file__).with_name("run.py")
    spec = importlib.util.spec_from_file_location("box_benchmark_run", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_box_benchmark_runs_both_clients() -> None:
    bench = _load()
    args = bench.parse_args(["--files", "24", "--workers", "2", "--rate", "40"])
    outcomes = bench.run(args)
    assert [outcome.client for outcome in outcomes] == ["plain", "sentinel"]
    for outcome in outcomes:
        assert outcome.uploaded + outcome.failed == 24
        assert outcome.requests >= outcome.uploaded
    assert "| box_sdk_gen (plain) |" in bench.table(outcomes)


def test_box_benchmark_rejects_unknown_client() -> None:
    bench = _load()
    with pytest.raises(SystemExit, match="unknown clients"):
        bench.run(argparse.Namespace(clients="boxsdk-v3"))
