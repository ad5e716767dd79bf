"""The ``box`` config section: defaults from the declaration file, and a reader."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sentinel.core import plugin_declarations

# The emulator accepts any bearer token, so this one is a label, not a secret.
EMULATOR_TOKEN = "emulator-token"  # noqa: S105

# The section is declared in the plugin's declaration file, plugin.toml.
BOX_SECTION = plugin_declarations("sentinel.box.plugin").section("box")


def _merge(defaults: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in values.items():
        if isinstance(merged.get(key), dict) and isinstance(value, Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def box_settings(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the ``box`` section with every missing key set to its default."""
    return _merge(BOX_SECTION.defaults(), values or {})


def has_credentials(settings: Mapping[str, Any]) -> bool:
    """Tell whether the section names a developer token, an app or a JWT config."""
    auth = box_settings(settings)["auth"]
    return bool(
        auth["developer_token"]
        or auth["client_id"]
        or auth["jwt_config_file"]
        or auth["refresh_token"]
    )
