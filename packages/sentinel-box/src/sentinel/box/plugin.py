"""The sentinel-box plugin: the embedded Box emulator of ``sentinel run``.

The Box tasks, the client factory, the ``sentinel box`` command and the
``box`` config section are declared in plugin.toml beside this module, which
the host reads without importing it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentinel.box._settings import EMULATOR_TOKEN, box_settings, has_credentials
from sentinel.core import hookimpl

if TYPE_CHECKING:
    from sentinel.core import Agent

logger = logging.getLogger(__name__)

EMULATOR_SERVICE = "box.emulator"


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
