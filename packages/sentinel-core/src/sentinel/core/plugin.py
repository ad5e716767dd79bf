"""The core's own plugin: config sections and commands of every installation."""

from __future__ import annotations

from sentinel.core._markers import hookimpl
from sentinel.core._types import CommandSpec, ConfigSection, Field

LOGGING_SECTION = ConfigSection(
    name="logging",
    help="Logging for sentinel commands: a level and format, or a full dictConfig.",
    fields={
        "level": Field(
            str,
            "INFO",
            "Root log level.",
            choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        ),
        "format": Field(
            str, "%(asctime)s %(levelname)s %(name)s: %(message)s", "Log line format."
        ),
        "config": Field(
            dict,
            None,
            "A logging.config.dictConfig mapping; replaces level and format.",
            nullable=True,
        ),
    },
)

PLUGINS_SECTION = ConfigSection(
    name="plugins",
    help="Which plugins load and which one wins a conflict.",
    fields={
        "disable": Field(
            list, [], "Plugin ids to skip, as shown by 'sentinel plugins'."
        ),
        "strict": Field(bool, False, "Fail when any plugin cannot be loaded."),
        "prefer": Field(
            dict,
            {},
            "Winner per conflict: 'KIND:NAME' or 'command:NAME' to a plugin id.",
        ),
    },
)


@hookimpl
def sentinel_config_sections() -> list[ConfigSection]:
    """Declare the logging and plugins sections."""
    return [LOGGING_SECTION, PLUGINS_SECTION]


@hookimpl
def sentinel_commands() -> list[CommandSpec]:
    """Declare the ``sentinel plugin`` group of tools for plugin authors."""
    return [
        CommandSpec(
            "plugin",
            "sentinel.core._plugin_cli:plugin",
            "Create a plugin distribution and print the hook reference.",
        )
    ]
