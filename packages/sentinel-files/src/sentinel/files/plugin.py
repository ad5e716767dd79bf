"""The sentinel-files plugin: the watcher and files service of ``sentinel run``.

The file formats, the files.process task, the ``sentinel files`` command and
the ``files`` config section are declared in plugin.toml beside this module,
which the host reads without importing it; the watcher is imported when
``sentinel run`` starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentinel.core import hookimpl, plugin_declarations

if TYPE_CHECKING:
    from sentinel.core import Agent

SERVICE_NAME = "files"

# The section is declared in plugin.toml; its defaults are read from there.
FILES_SECTION = plugin_declarations(__name__).section("files")


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
