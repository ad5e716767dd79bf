"""The ``sentinel files`` commands: inspect and detect files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sentinel.files._detect import detect
from sentinel.files._errors import FilesError
from sentinel.files._formats import load_file, registered_classes


@click.group(name="files")
def files() -> None:
    """Inspect files the way the files.process task reads them.

    \b
    inspect PATH [--json]  format, encoding, dialect, shape and issues of PATH,
                           with why each was chosen; exit status 1 when the
                           file would be rejected
    """


@files.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def inspect(path: Path, as_json: bool) -> None:
    """Print the format, encoding, dialect, shape and issues of PATH.

    Exits with status 1 when the file would be rejected.
    """
    report: dict[str, Any] = {"path": str(path)}
    classes = registered_classes(click.get_current_context().obj)
    try:
        detection = detect(path, classes)
        report["detected"] = {"format": detection.format, "reason": detection.reason}
        report["summary"] = load_file(path, classes).summary()
    except FilesError as exc:
        report["error"] = exc.as_dict()
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(_render(report))
    if "error" in report:
        raise SystemExit(1)


def _render(report: dict[str, Any]) -> str:
    lines = [f"path: {report['path']}"]
    detected = report.get("detected")
    if detected:
        lines.append(f"format: {detected['format']}")
        lines.append(f"why: {detected['reason']}")
    summary = report.get("summary") or {}
    skip = {"format", "path", "warnings", "errors", "sheets"}
    for key, value in summary.items():
        if key not in skip and value not in (None, [], {}):
            lines.append(f"{key}: {_text(value)}")
    for sheet in summary.get("sheets", []):
        lines.append(
            f"sheet {sheet['name']!r}: {sheet['type']}, {sheet['visible']}, "
            f"{sheet['rows']} rows x {sheet['columns']} columns, "
            f"{len(sheet['merged'])} merged ranges"
        )
    for issue in summary.get("warnings", []):
        lines.append(f"warning [{issue['code']}]: {issue['message']}")
    error = report.get("error")
    if error:
        lines.append(f"error [{error['code']}]: {error['message']}")
        where = ", ".join(
            f"{key} {error[key]}" for key in ("sheet", "row", "column") if key in error
        )
        if where:
            lines.append(f"at: {where}")
        if error.get("hint"):
            lines.append(f"hint: {error['hint']}")
    return "\n".join(lines)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.replace("\n", "\\n")
    return json.dumps(value, ensure_ascii=False, default=str)
