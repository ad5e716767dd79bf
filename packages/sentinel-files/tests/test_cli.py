"""Tests of the ``sentinel files inspect`` command through click's CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner, Result

from sentinel.files._base import MAX_KEYS_LISTED
from sentinel.files._cli import files

from .broken_readers import CrashingFile, registry_with
from .xlsx_bombs import write_workbook

CORPUS = Path(
    os.environ.get(
        "SENTINEL_CORPUS",
        Path(__file__).resolve().parents[3].parent / "shared" / "corpus",
    )
)


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
    assert "the document declares the entity 'a'" in result.output
    assert "entity declarations are rejected because expanding them" in (result.output)
    assert "exhaust memory (billion laughs" in result.output
    assert "hint: Remove the entity declarations from the DOCTYPE" in result.output


def test_inspect_unsupported_format_names_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# notes\n")
    result = CliRunner().invoke(files, ["inspect", "--json", str(path)])
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["code"] == "unsupported-format"


def inspect_json(path: Path) -> dict[str, object]:
    result = CliRunner().invoke(files, ["inspect", "--json", str(path)])
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads(result.output)["summary"]
    return summary


def test_inspect_lists_all_corpus_keys() -> None:
    path = CORPUS / "yaml" / "cassandra.yaml"
    if not path.is_file():
        pytest.skip(f"corpus file not found at {path}; set SENTINEL_CORPUS")
    # The corpus manifest states 87 top-level keys for this file.
    summary = inspect_json(path)
    assert summary["top_level_key_count"] == 87
    keys = summary["top_level_keys"]
    assert isinstance(keys, list)
    assert len(keys) == 87
    assert keys[0] == "cluster_name"
    text = CliRunner().invoke(files, ["inspect", str(path)]).output
    assert "top_level_key_count: 87" in text
    assert "showing" not in text


@pytest.mark.parametrize("suffix", [".json", ".yaml"], ids=["json", "yaml"])
def test_inspect_says_keys_were_cut(tmp_path: Path, suffix: str) -> None:
    total = MAX_KEYS_LISTED + 37
    document = {f"key{index}": index for index in range(total)}
    path = tmp_path / f"wide{suffix}"
    path.write_text(json.dumps(document), encoding="utf-8")
    summary = inspect_json(path)
    assert summary["top_level_key_count"] == total
    keys = summary["top_level_keys"]
    assert isinstance(keys, list)
    assert len(keys) == MAX_KEYS_LISTED
    text = CliRunner().invoke(files, ["inspect", str(path)]).output
    expected = f"top_level_keys (showing {MAX_KEYS_LISTED} of {total} keys):"
    assert expected in text
    assert f"top_level_key_count: {total}" in text


def test_inspect_sequence_has_no_keys(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    summary = inspect_json(path)
    assert summary["top_level_keys"] is None
    assert summary["top_level_key_count"] is None


def test_inspect_deep_yaml_exits_one(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 100_000)
    result = CliRunner().invoke(files, ["inspect", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "error [nesting-depth]:" in result.output
    assert "hint: Flatten the structure." in result.output


def inspect_crashing_reader(tmp_path: Path, *options: str) -> Result:
    path = tmp_path / "x.crash"
    path.write_text("anything")
    state = SimpleNamespace(registry=registry_with(CrashingFile), config=None)
    return CliRunner().invoke(files, ["inspect", *options, str(path)], obj=state)


def test_inspect_reader_crash_exits_one(tmp_path: Path) -> None:
    result = inspect_crashing_reader(tmp_path)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "error [reader-error]:" in result.output
    assert "ValueError: unpacked 3 values, expected 2" in result.output
    assert "bug in the reader" in result.output
    assert "hint: Report the bug" in result.output


def test_inspect_reader_crash_json_error(tmp_path: Path) -> None:
    result = inspect_crashing_reader(tmp_path, "--json")
    assert result.exit_code == 1
    error = json.loads(result.output)["error"]
    assert error["error"] == "ReaderError"
    assert error["code"] == "reader-error"
    assert error["format"] == "crashing"


def test_inspect_broken_shared_strings_exits_one(tmp_path: Path) -> None:
    cell = b'<row r="1"><c r="A1" t="s"><v>7</v></c></row>'
    path = write_workbook(tmp_path / "strings.xlsx", [cell], "A1")
    result = CliRunner().invoke(files, ["inspect", str(path)])
    assert result.exit_code == 1
    assert "error [corrupt]" in result.output
    assert "Cell string index not found in shared strings table" in result.output
    assert "at: sheet Bomb" in result.output
