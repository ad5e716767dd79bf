"""Tests of the log plugin: types, config section, startup and logging config."""

from __future__ import annotations

import logging
import logging.config
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sentinel.core import (
    LOG_HANDLER,
    Agent,
    PluginHost,
    load_config,
    plugin_declarations,
)
from sentinel.core._logging import configure_logging
from sentinel.log import HandlerConfigError, SlackHandler, TwilioSmsHandler, plugin

TOKEN = "xoxb-9999-8888-plugintoken"


@pytest.fixture
def host() -> PluginHost:
    host = PluginHost()
    host.register_module("log", plugin)
    return host


def write_config(path: Path, values: dict[str, Any]) -> Path:
    config_file = path / "sentinel.yaml"
    config_file.write_text(yaml.safe_dump({"default": values}))
    return config_file


def start_agent(host: PluginHost, tmp_path: Path, values: dict[str, Any]) -> Agent:
    config_file = write_config(tmp_path, values)
    config = load_config(config_file, None, host.config_sections(), environ={})
    agent = Agent(config, host, tmp_path)
    host.pm.hook.sentinel_startup(agent=agent)
    return agent


def attached_handlers() -> list[logging.Handler]:
    return [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, (SlackHandler, TwilioSmsHandler))
    ]


def test_plugin_registers_handler_types(host: PluginHost) -> None:
    assert host.registry.names(LOG_HANDLER) == ["slack", "twilio"]
    assert host.registry.get(LOG_HANDLER, "slack") is SlackHandler
    assert host.registry.get(LOG_HANDLER, "twilio") is TwilioSmsHandler


def test_plugin_found_by_entry_point() -> None:
    host = PluginHost()
    host.load_entry_points()
    host.import_plugins()

    info = next(info for info in host.plugins if info.id == "log")
    assert info.status == "loaded"
    assert "sentinel_startup" in info.hooks


def test_plugin_log_section_defaults() -> None:
    (section,) = plugin_declarations("sentinel.log.plugin").sections

    assert section.name == "log"
    assert section.defaults() == {
        "slack": {"token": None, "channel": None, "base_url": None, "level": "ERROR"},
        "twilio": {
            "account_sid": None,
            "auth_token": None,
            "from_number": None,
            "to_numbers": [],
            "base_url": None,
            "level": "CRITICAL",
        },
    }
    assert section.fields["slack"].fields["token"].secret
    assert section.fields["twilio"].fields["auth_token"].secret


def test_plugin_module_imports_no_sdk() -> None:
    code = (
        "import sys, sentinel.log.plugin\n"
        "sdks = ('slack_sdk', 'twilio', 'requests')\n"
        "loaded = [m for m in sdks if m in sys.modules]\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == ""


def test_startup_attaches_and_shutdown_closes(
    host: PluginHost,
    tmp_path: Path,
    slack_api: Any,
    twilio_api: Any,
    isolated_logging: None,
) -> None:
    agent = start_agent(
        host,
        tmp_path,
        {
            "log": {
                "slack": {
                    "token": TOKEN,
                    "channel": "#ops",
                    "base_url": f"{slack_api.url}/api/",
                },
                "twilio": {
                    "account_sid": "AC" + "1" * 32,
                    "auth_token": "twilio-secret-token",
                    "from_number": "+15005550006",
                    "to_numbers": ["+15005550001"],
                    "base_url": twilio_api.url,
                },
            }
        },
    )
    slack, sms = attached_handlers()
    assert slack.level == logging.ERROR
    assert sms.level == logging.CRITICAL

    logging.getLogger("job").error("upload of %s failed", "a.csv")
    logging.getLogger("job").critical("queue server is gone")
    host.pm.hook.sentinel_shutdown(agent=agent)

    assert attached_handlers() == []
    assert slack_api.texts() == [
        "ERROR job: upload of a.csv failed",
        "CRITICAL job: queue server is gone",
    ]
    assert [r.form()["Body"] for r in twilio_api.requests] == [
        "CRITICAL job: queue server is gone"
    ]


def test_startup_without_credentials_attaches_nothing(
    host: PluginHost, tmp_path: Path, isolated_logging: None
) -> None:
    agent = start_agent(host, tmp_path, {})

    assert attached_handlers() == []
    host.pm.hook.sentinel_shutdown(agent=agent)


def test_startup_redacts_secrets_of_other_sections(
    host: PluginHost, tmp_path: Path, slack_api: Any, isolated_logging: None
) -> None:
    agent = start_agent(
        host,
        tmp_path,
        {
            "log": {
                "slack": {
                    "token": TOKEN,
                    "channel": "#ops",
                    "base_url": f"{slack_api.url}/api/",
                }
            },
            "box": {"auth": {"client_secret": "box-client-secret-value"}},
        },
    )

    logging.getLogger("box").error("login with box-client-secret-value and %s", TOKEN)
    host.pm.hook.sentinel_shutdown(agent=agent)

    assert slack_api.texts() == ["ERROR box: login with *** and ***"]


def test_startup_rejects_token_without_channel(
    host: PluginHost, tmp_path: Path, isolated_logging: None
) -> None:
    with pytest.raises(HandlerConfigError, match=r"log\.slack\.channel"):
        start_agent(host, tmp_path, {"log": {"slack": {"token": TOKEN}}})


def test_dictconfig_builds_slack_handler_by_path(
    slack_api: Any, isolated_logging: None
) -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {
                "alerts": {
                    "()": "sentinel.log.SlackHandler",
                    "level": "ERROR",
                    "token": TOKEN,
                    "channel": "#dict",
                    "base_url": f"{slack_api.url}/api/",
                }
            },
            "root": {"handlers": ["alerts"], "level": "INFO"},
        }
    )
    (handler,) = attached_handlers()

    logging.getLogger("dict").warning("below the handler level")
    logging.getLogger("dict").error("from dictConfig")
    handler.close()

    assert handler.level == logging.ERROR
    assert slack_api.texts() == ["ERROR dict: from dictConfig"]
    assert slack_api.requests[0].json()["channel"] == "#dict"


def test_core_logging_config_names_plugin(
    host: PluginHost, slack_api: Any, isolated_logging: None
) -> None:
    configure_logging(
        {
            "config": {
                "disable_existing_loggers": False,
                "handlers": {
                    "alerts": {
                        "plugin": "slack",
                        "level": "ERROR",
                        "token": TOKEN,
                        "channel": "#plugin",
                        "base_url": f"{slack_api.url}/api/",
                    }
                },
                "root": {"handlers": ["alerts"], "level": "INFO"},
            }
        },
        host.registry,
    )
    (handler,) = attached_handlers()

    logging.getLogger("core").error("through plugin: slack")
    handler.close()

    assert slack_api.texts() == ["ERROR core: through plugin: slack"]
