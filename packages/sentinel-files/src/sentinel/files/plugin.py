"""The sentinel-files plugin: file formats, the files.process task, the watcher.

This module only declares data and imports the watcher when ``sentinel run``
starts, so listing plugins and CLI start-up stay cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentinel.core import (
    FILE_FORMAT,
    QUEUE_TASK,
    CommandSpec,
    ConfigSection,
    Field,
    TypeSpec,
    hookimpl,
)

if TYPE_CHECKING:
    from sentinel.core import Agent

SERVICE_NAME = "files"

ROUTE_FIELDS = {
    "name": Field(str, "inbox", "Route name, shown in events and job payloads."),
    "folder": Field(
        str, "inbox", "Folder to watch, relative to the working directory."
    ),
    "patterns": Field(list, ["*"], "Glob patterns of file names (or relative paths)."),
    "recursive": Field(bool, True, "Watch subfolders too."),
    "task": Field(str, "box.upload", "Queue task that receives each valid file."),
    "options": Field(dict, {}, "Extra payload keys for the task."),
    "processed": Field(str, "processed", "Folder for files handled successfully."),
    "failed": Field(str, "failed", "Folder for rejected files and their reasons."),
    "follow_symlinks": Field(
        bool,
        False,
        "Process symbolic links whose target is inside the watched folder; when "
        "false, every link goes to the failed folder with a reason.",
    ),
}
DEFAULT_ROUTE = {
    "name": "inbox",
    "folder": "inbox",
    "patterns": ["*"],
    "recursive": True,
    "task": "box.upload",
    "options": {"folder": "/Sentinel/Inbox"},
    "processed": "processed",
    "failed": "failed",
    "follow_symlinks": False,
}

FILES_SECTION = ConfigSection(
    name="files",
    help="Watched folders (routes) and when a file counts as ready.",
    fields={
        "routes": Field(
            list,
            [DEFAULT_ROUTE],
            "Routes: name, folder, patterns, recursive, task, options, processed, "
            "failed, follow_symlinks.",
            fields=ROUTE_FIELDS,
        ),
        "settle_seconds": Field(
            float,
            1.0,
            "Seconds after a close-after-write or a rename into the folder, with "
            "no further event for the file, after which it is ready.",
        ),
        "quiet_seconds": Field(
            float,
            1.0,
            "Seconds without a change after which a file is ready in polling mode, "
            "or one changed without open and close events.",
        ),
        "polling": Field(
            bool, False, "Poll folders instead of using file-system events."
        ),
        "poll_interval": Field(float, 1.0, "Seconds between polls in polling mode."),
    },
)

FORMATS = {
    "csv": ("sentinel.files._csv:CsvFile", "Comma- or otherwise delimited text"),
    "tsv": ("sentinel.files._csv:TsvFile", "Tab-separated values"),
    "xlsx": ("sentinel.files._xlsx:XlsxFile", "Excel workbook"),
    "xlsm": ("sentinel.files._xlsx:XlsmFile", "Macro-enabled Excel workbook"),
    "xml": ("sentinel.files._xml:XmlFile", "XML document"),
    "yaml": ("sentinel.files._yaml:YamlFile", "YAML documents"),
    "json": ("sentinel.files._json:JsonFile", "JSON document"),
}


@hookimpl
def sentinel_types() -> list[TypeSpec]:
    """Declare the file formats and the ``files.process`` task."""
    specs = [
        TypeSpec(FILE_FORMAT, name, target, description)
        for name, (target, description) in FORMATS.items()
    ]
    specs.append(
        TypeSpec(
            QUEUE_TASK,
            "files.process",
            "sentinel.files._pipeline:process_file",
            "Validate a ready file, run its route's task, move it",
        )
    )
    return specs


@hookimpl
def sentinel_commands() -> list[CommandSpec]:
    """Declare the ``sentinel files`` command group."""
    return [
        CommandSpec(
            "files",
            "sentinel.files._cli:files",
            "Inspect files: format, encoding, dialect, shape, issues and why.",
        )
    ]


@hookimpl
def sentinel_config_sections() -> list[ConfigSection]:
    """Declare the ``files`` config section."""
    return [FILES_SECTION]


@hookimpl
def sentinel_startup(agent: Agent) -> None:
    """Provide the ``files`` service with the folder counts of every route."""
    from sentinel.files._service import FilesService

    agent.provide(SERVICE_NAME, FilesService.from_agent(agent))


@hookimpl
def sentinel_ready(agent: Agent) -> None:
    """Start watching every route's folder and enqueue each ready file."""
    agent.service(SERVICE_NAME).start_watching(agent)


@hookimpl(tryfirst=True)
def sentinel_shutdown(agent: Agent) -> None:
    """Stop the watcher before the queue stops, so no file is enqueued late."""
    if agent.has_service(SERVICE_NAME):
        agent.service(SERVICE_NAME).stop_watching()
