"""Tests of declaration files, API ranges and plugin checks, in process."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from sentinel.core import ConfigError, PluginError, PluginHost, hookimpl, load_config
from sentinel.core._check import check_plugins
from sentinel.core._manifest import parse_declarations, read_declarations
from sentinel.core._version import in_range


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        pytest.param("1.0", ">=1.0,<2", True, id="inside"),
        pytest.param("2.0", ">=1.0,<2", False, id="upper-bound-excluded"),
        pytest.param("1", "==1.0", True, id="trailing-zero"),
        pytest.param("1.4", "~=1.2", True, id="compatible-minor"),
        pytest.param("2.1", "~=1.2", False, id="compatible-other-major"),
        pytest.param("1.0", ">=2.0,<3", False, id="newer-plugin"),
        pytest.param("1.0", "!=1.0", False, id="excluded"),
    ],
)
def test_in_range(version: str, spec: str, expected: bool) -> None:
    assert in_range(version, spec) is expected


@pytest.mark.parametrize("spec", ["1.0+", ">=one", ">=1.0;<2"])
def test_in_range_rejects_bad_spec(spec: str) -> None:
    with pytest.raises(PluginError, match="invalid API range"):
        in_range("1.0", spec)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"typos": []}, "unknown top-level keys typos", id="top-key"),
        pytest.param({"api": 2}, "'api' must be a version range", id="api-type"),
        pytest.param(
            {"types": [{"kind": "file.format", "name": "x", "target": "nocolon"}]},
            "must be 'package.module:attribute'",
            id="target",
        ),
        pytest.param(
            {"commands": [{"target": "a:b"}]}, "non-empty string 'name'", id="name"
        ),
        pytest.param(
            {"config": {"s": {"fields": {"k": {"type": "integer"}}}}},
            "type 'integer' is not one of",
            id="field-type",
        ),
        pytest.param(
            {"config": {"s": {"fields": {"k": {"type": "int", "max": 3}}}}},
            "unknown keys max",
            id="field-key",
        ),
    ],
)
def test_parse_declarations_rejects_mistakes(data: dict, message: str) -> None:
    with pytest.raises(PluginError, match=message):
        parse_declarations(data, "plugin.toml")


def test_declared_section_validates_config(tmp_path: Path) -> None:
    declaration = tmp_path / "plugin.toml"
    declaration.write_text(
        'api = ">=1.0,<2"\n'
        "[config.svc]\n"
        'help = "A service."\n'
        "[config.svc.fields.port]\n"
        'type = "int"\n'
        "default = 8000\n"
        "minimum = 1\n"
        "maximum = 65535\n"
        "[config.svc.fields.token]\n"
        'type = "str"\n'
        "secret = true\n"
        "nullable = true\n",
        encoding="utf-8",
    )
    declarations = parse_declarations(read_declarations(declaration), "plugin.toml")
    section = declarations.section("svc")
    assert section.defaults() == {"port": 8000, "token": None}
    config_file = tmp_path / "sentinel.yaml"
    config_file.write_text("default:\n  svc:\n    port: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="an integer from 1 to 65535"):
        load_config(config_file, None, [section], environ={})


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    declaration = tmp_path / "plugin.toml"
    declaration.write_text("api = \n", encoding="utf-8")
    with pytest.raises(PluginError, match=f"{declaration} is not valid TOML"):
        read_declarations(declaration)


class _WrongSignature:
    @hookimpl
    def sentinel_startup(self, agent: object, extra: object) -> None:
        """Asks for an argument the spec does not pass."""


class _Unmarked:
    def sentinel_ready(self, agent: object) -> None:
        """Looks like a hook but has no @hookimpl, so pluggy never calls it."""


def test_wrong_hook_signature_fails_plugin() -> None:
    host = PluginHost()
    info = host.register_module("wrong", _WrongSignature())
    assert info.status == "failed"
    assert "invalid hook implementation" in (info.error or "")
    assert "extra" in (info.error or "")
    [problem] = [p for p in check_plugins(host, ["wrong"]) if p.level == "error"]
    assert "extra" in problem.message


def test_check_warns_about_unmarked_hook() -> None:
    host = PluginHost()
    host.register_module("unmarked", _Unmarked())
    problems = check_plugins(host, ["unmarked"])
    assert any(
        p.level == "warning" and "sentinel_ready" in p.message for p in problems
    ), problems
    assert all(p.level != "error" for p in problems)


def test_check_reports_unknown_id() -> None:
    problems = check_plugins(PluginHost(), ["nobody"])
    assert [(p.plugin, p.level) for p in problems] == [("nobody", "error")]


def test_check_rejects_default_outside_own_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sentinel_bounded_example.py").write_text(
        '"""A plugin whose declared default breaks its own maximum."""\n',
        encoding="utf-8",
    )
    (tmp_path / "sentinel_bounded_example.toml").write_text(
        'api = ">=1.0,<2"\n'
        "[config.bounded.fields.port]\n"
        'type = "int"\n'
        "default = 70000\n"
        "maximum = 65535\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("sentinel_bounded_example")
    host = PluginHost()
    info = host.register_module("bounded", module)
    assert info.declared
    problems = check_plugins(host, ["bounded"])
    assert any(
        p.level == "error" and "'bounded.port'" in p.message for p in problems
    ), problems
