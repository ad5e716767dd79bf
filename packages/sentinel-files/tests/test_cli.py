"""Tests of the ``sentinel files inspect`` command through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sentinel.files._cli import files


def test_inspect_prints_dialect_and_shape(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes("name;city\nAnne;Köln, Altstadt\n".encode("cp1252"))
    result = CliRunner().invoke(files, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert "format: csv" in result.output
    assert "delimiter: ;" in result.output
    assert "encoding: latin-1" in result.output
    assert "rows: 1" in result.output


def test_inspect_json_reports_summary(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("on: push\nenabled: no\n")
    result = CliRunner().invoke(files, ["inspect", "--json", str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["detected"]["format"] == "yaml"
    assert report["summary"]["top_level_keys"] == ["on", "enabled"]


def test_inspect_rejected_file_exits_one(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    result = CliRunner().invoke(files, ["inspect", str(path)])
    assert result.exit_code == 1
    assert "entity expansion is refused" in result.output


def test_inspect_unsupported_format_names_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# notes\n")
    result = CliRunner().invoke(files, ["inspect", "--json", str(path)])
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["code"] == "unsupported-format"
