"""The sentinel-box plugin: Box types, commands, config and the embedded emulator."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentinel.box._settings import (
    BOX_SECTION,
    EMULATOR_TOKEN,
    box_settings,
    has_credentials,
)
from sentinel.core import (
    BOX_CLIENT,
    QUEUE_TASK,
    CommandSpec,
    ConfigSection,
    TypeSpec,
    hookimpl,
)

if TYPE_CHECKING:
    from sentinel.core import Agent

logger = logging.getLogger(__name__)

EMULATOR_SERVICE = "box.emulator"


@hookimpl
def sentinel_types() -> list[TypeSpec]:
    """Declare the Box tasks and the default Box client factory."""
    return [
        TypeSpec(
            QUEUE_TASK,
            "box.upload",
            "sentinel.box._tasks:box_upload",
            "Upload a local file to a Box folder path, skipping unchanged content.",
        ),
        TypeSpec(
            QUEUE_TASK,
            "box.download",
            "sentinel.box._tasks:box_download",
            "Download a Box file to a local path, checking its SHA-1.",
        ),
        TypeSpec(
            QUEUE_TASK,
            "box.sync",
            "sentinel.box._tasks:box_sync",
            "Mirror a local folder into a Box folder path.",
        ),
        TypeSpec(
            BOX_CLIENT,
            "default",
            "sentinel.box._client:make_client",
            "Build a box_sdk_gen client from the box config section.",
        ),
    ]


@hookimpl
def sentinel_commands() -> list[CommandSpec]:
    """Declare the ``sentinel box`` command group."""
    return [
        CommandSpec(
            "box",
            "sentinel.box._cli:box",
            "Work with Box: check access, list, upload, download, sync, emulate.",
        )
    ]


@hookimpl
def sentinel_config_sections() -> list[ConfigSection]:
    """Declare the ``box`` section."""
    return [BOX_SECTION]


@hookimpl
def sentinel_startup(agent: Agent) -> None:
    """Start the Box emulator when neither credentials nor an API URL are set."""
    box = box_settings(agent.settings.get("box"))
    if has_credentials(box) or box["api_url"]:
        logger.info("Box client uses %s", box["api_url"] or "Box's own servers")
        return
    from sentinel.box._emulator import BoxEmulator

    emulator_settings = box["emulator"]
    root = Path(emulator_settings["root"])
    if not root.is_absolute():
        root = agent.workdir / root
    emulator = BoxEmulator(root, emulator_settings["host"], emulator_settings["port"])
    emulator.start()
    _point_at(agent, emulator.api_url, emulator.upload_url, emulator.oauth_url)
    agent.provide(EMULATOR_SERVICE, emulator)
    logger.info(
        "no Box credentials set: Box emulator serves %s at %s", root, emulator.url
    )


def _point_at(agent: Agent, api_url: str, upload_url: str, oauth_url: str) -> None:
    agent.runtime_env.update(
        {
            "SENTINEL__BOX__API_URL": api_url,
            "SENTINEL__BOX__UPLOAD_URL": upload_url,
            "SENTINEL__BOX__OAUTH_URL": oauth_url,
            "SENTINEL__BOX__AUTH__DEVELOPER_TOKEN": EMULATOR_TOKEN,
        }
    )
    # Tasks run in this process read the same values as the worker processes.
    section: dict[str, Any] = agent.settings.setdefault("box", {})
    section.update(api_url=api_url, upload_url=upload_url, oauth_url=oauth_url)
    auth = section.setdefault("auth", {})
    auth["developer_token"] = EMULATOR_TOKEN


@hookimpl(trylast=True)
def sentinel_shutdown(agent: Agent) -> None:
    """Stop the Box emulator if this plugin started it."""
    if agent.has_service(EMULATOR_SERVICE):
        agent.service(EMULATOR_SERVICE).stop()
