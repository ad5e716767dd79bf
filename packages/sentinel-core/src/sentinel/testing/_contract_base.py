"""The part every contract shares: the declared type and its registration."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any, ClassVar

import pytest

from sentinel.core import PluginHost, bootstrap, import_target


def load_host(plugin: str | None, workdir: Path) -> PluginHost:
    """Return a host with only ``plugin`` registered, or every installed plugin.

    Installed plugins load with an empty config file in ``workdir`` and no
    ``SENTINEL*`` variables, so the developer's settings cannot hide a plugin.
    """
    if plugin is not None:
        host = PluginHost()
        host.register_module(plugin, importlib.import_module(plugin))
        return host
    config_path = workdir / "contract-sentinel.yaml"
    config_path.write_text("default: {}\n", encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL")}
    host, _config = bootstrap(config_path=config_path, environ=environ)
    return host


class TypeContract:
    """Checks shared by every contract: the target imports and is declared.

    ``target`` is the ``"module:attribute"`` import target of the type and
    ``type_name`` the name the plugin declares it under. ``plugin`` is the
    module name of the plugin that declares it; None looks the type up among
    the installed plugins, which is what the host does in production.
    """

    kind: ClassVar[str] = ""
    target: ClassVar[str] = ""
    type_name: ClassVar[str | None] = None
    plugin: ClassVar[str | None] = None

    def implementation(self) -> Any:
        """Import and return the type under test."""
        if not self.target:
            raise TypeError(
                f"{type(self).__name__} does not set target; set it to the "
                "'module:attribute' import target that the plugin declares"
            )
        return import_target(self.target)

    def test_target_imports(self) -> None:
        assert self.implementation() is not None

    def test_declared_by_plugin(self, tmp_path: Path) -> None:
        if not self.type_name:
            pytest.skip(
                f"{type(self).__name__} sets no type_name; set it to check that "
                f"a plugin declares this {self.kind} type"
            )
        host = load_host(self.plugin, tmp_path)
        assert host.registry.get(self.kind, self.type_name) is self.implementation()
