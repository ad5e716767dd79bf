"""The ``sentinel files`` commands: inspect and detect files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sentinel.files._detect import detect, find_reader
from sentinel.files._errors import FilesError, ReaderError
from sentinel.files._formats import load_file, registered_classes
from sentinel.files._reading import reading_options


@click.group(name="files")
def files() -> None:
    """Inspect files the way the files.process task reads them.

    \b
    inspect PATH [--json]  format, encoding, dialect, shape and issues of PATH,
                           with why each was chosen; exit status 1 when the
                           file would be rejected or its reader fails
    convert SOURCE TARGET  CSV to XLSX or XLSX to CSV, keeping values and types
    """


@files.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def inspect(path: Path, as_json: bool) -> None:
    """Print the format, encoding, dialect, shape and issues of PATH.

    The reading options of the files config section (json_numbers,
    na_values, workbook_limits) apply as in files.process. Exits with
    status 1 when the file would be rejected or its reader fails.
    """
    report: dict[str, Any] = {"path": str(path)}
    state = click.get_current_context().obj
    classes = registered_classes(state)
    try:
        options = reading_options(_files_section(state), classes)
    except FilesError as exc:
        raise click.ClickException(exc.describe()) from None
    try:
        detection = detect(path, classes)
        report["detected"] = {"format": detection.format, "reason": detection.reason}
        report["summary"] = load_file(path, classes, **options).summary()
    except FilesError as exc:
        report["error"] = exc.as_dict()
    except Exception as exc:  # noqa: BLE001 - a reader bug gets a report, not a traceback
        error = ReaderError.from_exception(exc, path, find_reader(path, classes))
        report["error"] = error.as_dict()
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(_render(report))
    if "error" in report:
        raise SystemExit(1)


def _files_section(state: Any) -> dict[str, Any]:
    config = getattr(state, "config", None)
    if config is None:
        return {}
    return dict(config.section("files") or {})


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
            lines.append(f"{_label(key, summary)}: {_text(value)}")
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


def _label(key: str, summary: dict[str, Any]) -> str:
    """Name a summary line, saying so when the list of keys is cut."""
    keys = summary.get("top_level_keys") or []
    total = summary.get("top_level_key_count") or 0
    if key == "top_level_keys" and total > len(keys):
        return f"{key} (showing {len(keys)} of {total} keys)"
    return key


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.replace("\n", "\\n")
    return json.dumps(value, ensure_ascii=False, default=str)


@files.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", default=None, help="Sheet to write or to read (name).")
@click.option(
    "--na-values",
    is_flag=True,
    help="Write NA, N/A, NULL, \\N and similar CSV markers as empty cells.",
)
def convert(source: Path, target: Path, sheet: str | None, na_values: bool) -> None:
    """Convert SOURCE to TARGET, CSV to XLSX or XLSX to CSV, by their extensions.

    Numbers, booleans, dates and empty cells keep their types; text such as
    0123 stays text.
    """
    from sentinel.files._convert import convert as run

    options: dict[str, Any] = {}
    if sheet is not None:
        options["sheet"] = sheet
    if na_values:
        options["na_values"] = True
    try:
        count = run(source, target, **options)
    except FilesError as exc:
        raise click.ClickException(exc.describe()) from None
    except OSError as exc:
        # The converters remove their partial target before raising.
        raise click.ClickException(f"conversion failed: {exc}") from None
    click.echo(f"wrote {count} rows to {target}{_sheet_note(source, target, sheet)}")


def _sheet_note(source: Path, target: Path, sheet: str | None) -> str:
    """Name the written sheet when it is not the source's file name as given."""
    if target.suffix.lower() != ".xlsx" or sheet is not None:
        return ""
    from sentinel.files._convert import sheet_title

    title = sheet_title(source)
    if title == source.stem:
        return ""
    return f", sheet {title!r} (file name made a valid sheet name)"
