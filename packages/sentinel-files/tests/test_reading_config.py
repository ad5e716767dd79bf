"""Tests of the files config's reading options in files.process and inspect."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sentinel.core import ConfigError, PermanentTaskError, bootstrap
from sentinel.core.cli import cli
from sentinel.files._errors import ReadingConfigError
from sentinel.files._limits import DEFAULT_LIMITS
from sentinel.files._pipeline import process_file
from sentinel.files._reading import reading_options

from .xlsx_bombs import narrow_rows, write_workbook

ROUTE = """\
      - name: inbox
        folder: inbox
        task: test.upload
        options: {}
"""


class Context:
    """A TaskContext on a real config whose ``call`` records the upload."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.job_id = "job-1"
        self.task = "files.process"
        self.attempt = 1
        self.max_attempts = 1
        self.config = config
        self.calls: list[str] = []

    def call(self, task: str, payload: Mapping[str, Any]) -> Any:
        self.calls.append(task)
        return {"uploaded": Path(payload["path"]).name}

    def progress(self, fraction: float, message: str = "") -> None:
        pass


def load_config(workdir: Path, files_keys: str) -> Mapping[str, Any]:
    path = workdir / "sentinel.yaml"
    path.write_text(f"default:\n  files:\n    routes:\n{ROUTE}{files_keys}")
    _host, config = bootstrap(env="default", config_path=str(path))
    return config.values


def process(workdir: Path, config: Mapping[str, Any], name: str) -> Path:
    """Run files.process on inbox/NAME and return the folder it ended in."""
    ctx = Context(config)
    payload = {"path": str(workdir / "inbox" / name), "route": "inbox"}
    try:
        process_file(ctx, {**payload, "relative": name})
    except PermanentTaskError:
        return workdir / "failed"
    return workdir / "processed"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    monkeypatch.delenv("SENTINEL_ENV", raising=False)
    (tmp_path / "inbox").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("files_keys", "outcome"),
    [("", "failed"), ("    json_numbers: flag\n", "processed")],
    ids=["strict-default", "flag"],
)
def test_json_numbers_config_changes_acceptance(
    workdir: Path, files_keys: str, outcome: str
) -> None:
    (workdir / "inbox" / "values.json").write_text('{"ratio": NaN}')
    config = load_config(workdir, files_keys)

    ended = process(workdir, config, "values.json")

    assert ended == workdir / outcome
    assert (ended / "values.json").exists()


@pytest.mark.parametrize(
    ("files_keys", "outcome"),
    [
        ("", "processed"),
        ("    workbook_limits:\n      max_cells: 100\n", "failed"),
    ],
    ids=["default-limits", "max-cells-100"],
)
def test_workbook_limits_config_changes_acceptance(
    workdir: Path, files_keys: str, outcome: str
) -> None:
    write_workbook(workdir / "inbox" / "rows.xlsx", narrow_rows(50), "A1:C50")
    config = load_config(workdir, files_keys)

    ended = process(workdir, config, "rows.xlsx")

    assert ended == workdir / outcome
    assert (ended / "rows.xlsx").exists()


def test_workbook_limits_rejection_names_key(workdir: Path) -> None:
    write_workbook(workdir / "inbox" / "rows.xlsx", narrow_rows(50), "A1:C50")
    config = load_config(workdir, "    workbook_limits:\n      max_cells: 100\n")

    process(workdir, config, "rows.xlsx")

    reason = (workdir / "failed" / "rows.xlsx.reason.txt").read_text()
    assert "max_cells" in reason


def test_config_rejects_unknown_json_policy(workdir: Path) -> None:
    with pytest.raises(ConfigError, match="json_numbers"):
        load_config(workdir, "    json_numbers: lenient\n")


def test_invalid_reading_option_is_permanent(workdir: Path) -> None:
    (workdir / "inbox" / "a.csv").write_text("a\n1\n")
    config = {"files": {**load_config(workdir, "")["files"], "na_values": "NA"}}

    with pytest.raises(PermanentTaskError, match="na_values"):
        process_file(
            Context(config),
            {
                "path": str(workdir / "inbox" / "a.csv"),
                "route": "inbox",
                "relative": "a.csv",
            },
        )
    assert (workdir / "inbox" / "a.csv").exists()


def test_reading_options_defaults() -> None:
    options = reading_options({})

    assert options == {
        "numbers": "strict",
        "na_values": False,
        "limits": DEFAULT_LIMITS,
    }


def test_reading_options_from_section() -> None:
    section = {
        "json_numbers": "flag",
        "na_values": ["NA", "-"],
        "workbook_limits": {"max_cells": 10, "max_part_bytes": 2048, "max_ratio": 5},
    }

    options = reading_options(section)

    assert options["numbers"] == "flag"
    assert options["na_values"] == ("NA", "-")
    assert options["limits"].max_cells == 10
    assert options["limits"].max_part_bytes == 2048
    assert options["limits"].max_ratio == 5.0
    assert options["limits"].ratio_floor == DEFAULT_LIMITS.ratio_floor


def test_reading_options_na_values_true() -> None:
    assert reading_options({"na_values": True})["na_values"] is True


@pytest.mark.parametrize(
    "section",
    [
        {"json_numbers": "lenient"},
        {"na_values": "NA"},
        {"na_values": [1, 2]},
        {"workbook_limits": {"max_cells": 0}},
        {"workbook_limits": {"max_cells": 1.5}},
        {"workbook_limits": {"max_rows": 10}},
        {"workbook_limits": [1]},
    ],
    ids=["policy", "string", "numbers", "zero", "fraction", "unknown-key", "list"],
)
def test_reading_options_invalid_values(section: dict[str, Any]) -> None:
    with pytest.raises(ReadingConfigError, match=next(iter(section))):
        reading_options(section)


def test_reading_options_drop_unaccepted() -> None:
    from sentinel.files._csv import CsvFile

    options = reading_options({"na_values": ["NA"]}, {"csv": CsvFile})

    assert options == {"na_values": ("NA",)}


def test_inspect_uses_config_reading_options(workdir: Path) -> None:
    path = workdir / "values.json"
    path.write_text('{"ratio": Infinity}')
    config = workdir / "sentinel.yaml"
    runner = CliRunner()

    strict = runner.invoke(cli, ["files", "inspect", str(path)])
    config.write_text("default:\n  files:\n    json_numbers: flag\n")
    flagged = runner.invoke(
        cli, ["--config", str(config), "files", "inspect", str(path)]
    )

    assert strict.exit_code == 1, strict.output
    assert flagged.exit_code == 0, flagged.output
    assert "warning [json-constant]" in flagged.output


def test_config_file_na_values_true(tmp_path: Path) -> None:
    config = load_config(tmp_path, "    na_values: true\n")

    assert config["files"]["na_values"] is True
    assert reading_options(config["files"])["na_values"] is True


def test_config_file_na_values_string_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected true or false or a list"):
        load_config(tmp_path, "    na_values: NA\n")
