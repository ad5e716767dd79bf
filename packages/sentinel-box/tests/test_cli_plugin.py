"""Tests of the sentinel box commands and of the plugin's run hooks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import sentinel.box
from sentinel.box import plugin
from sentinel.core import ConfigError, Field, load_config, plugin_declarations

pytestmark = pytest.mark.timeout(120)

SENTINEL = str(Path(sys.executable).with_name("sentinel"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_public_api_is_sorted_and_importable() -> None:
    assert sentinel.box.__all__ == sorted(sentinel.box.__all__)
    for name in sentinel.box.__all__:
        assert getattr(sentinel.box, name) is not None


def test_plugin_import_stays_light() -> None:
    code = (
        "import sys, sentinel.box.plugin; "
        "print(any(m.startswith(('box_sdk_gen', 'aiohttp')) for m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "False"


def test_plugin_declares_section_and_types() -> None:
    declarations = plugin_declarations(plugin.__name__)
    names = {spec.name for spec in declarations.types}
    section = declarations.section("box")
    assert names == {"box.upload", "box.download", "box.sync", "default"}
    assert section.fields["auth"].fields["developer_token"].secret
    assert section.defaults()["emulator"]["port"] == 0


def _clean_env() -> dict[str, str]:
    """Return this process's environment without any SENTINEL variable."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SENTINEL")
    }


def _start_emulator(tmp_path: Path, port: int, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            SENTINEL,
            "box",
            "emulator",
            "--root",
            str(tmp_path / "box"),
            "--port",
            str(port),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_clean_env(),
    )


def _numeric_fields(
    fields: dict[str, Field], prefix: str
) -> Iterator[tuple[str, Field]]:
    for name, spec in fields.items():
        if spec.type == "section":
            yield from _numeric_fields(spec.fields, f"{prefix}{name}.")
        elif spec.type in (int, float):
            yield f"{prefix}{name}", spec


def test_box_numeric_settings_declare_minimum() -> None:
    section = plugin_declarations(plugin.__name__).section("box")
    numeric = dict(_numeric_fields(section.fields, "box."))

    assert "box.timeout" in numeric
    for key, spec in numeric.items():
        assert spec.minimum is not None, key


OUT_OF_RANGE = [
    ("TIMEOUT", "-1", "box.timeout"),
    ("TIMEOUT", "0", "box.timeout"),
    ("MAX_ATTEMPTS", "0", "box.max_attempts"),
    ("RETRY_BACKOFF", "-3", "box.retry_backoff"),
    ("RETRY_MAX_DELAY", "-1", "box.retry_max_delay"),
    ("CHUNKED_THRESHOLD", "0", "box.chunked_threshold"),
    ("RATE_LIMIT__BURST", "0", "box.rate_limit.burst"),
    ("TOKEN_STORE__LOCK_SECONDS", "0", "box.token_store.lock_seconds"),
    ("TOKEN_STORE__EXPIRY_MARGIN", "-1", "box.token_store.expiry_margin"),
]


@pytest.mark.parametrize(
    ("variable", "value", "key"),
    OUT_OF_RANGE,
    ids=[f"{v}={x}" for v, x, _ in OUT_OF_RANGE],
)
def test_config_load_rejects_out_of_range(variable: str, value: str, key: str) -> None:
    section = plugin_declarations(plugin.__name__).section("box")
    environ = {f"SENTINEL__BOX__{variable}": value}

    with pytest.raises(ConfigError) as raised:
        load_config(None, None, sections=[section], environ=environ)
    assert f"SENTINEL__BOX__{variable}" in str(raised.value)
    assert repr(key) in str(raised.value)
    assert "expected" in str(raised.value)


def test_config_load_accepts_minimum_values() -> None:
    section = plugin_declarations(plugin.__name__).section("box")
    environ = {
        "SENTINEL__BOX__TIMEOUT": "0.001",
        "SENTINEL__BOX__MAX_ATTEMPTS": "1",
        "SENTINEL__BOX__RETRY_BACKOFF": "0",
        "SENTINEL__BOX__TOKEN_STORE__LOCK_SECONDS": "0.001",
    }

    box = load_config(None, None, sections=[section], environ=environ).section("box")

    assert box["timeout"] == 0.001
    assert box["max_attempts"] == 1
    assert box["retry_backoff"] == 0
    assert box["token_store"]["lock_seconds"] == 0.001


def test_config_file_error_names_line(tmp_path: Path) -> None:
    section = plugin_declarations(plugin.__name__).section("box")
    path = tmp_path / "sentinel.yaml"
    path.write_text("default:\n  box:\n    timeout: -1\n")

    with pytest.raises(ConfigError) as raised:
        load_config(path, None, sections=[section], environ={})
    assert f"{path}:3" in str(raised.value)
    assert "'box.timeout'" in str(raised.value)


def test_emulator_command_serves_until_terminated(tmp_path: Path) -> None:
    port = _free_port()
    env = _clean_env()
    process = _start_emulator(tmp_path, port)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert f"127.0.0.1:{port}" in first
        client_env = {
            **env,
            "SENTINEL__BOX__API_URL": f"http://127.0.0.1:{port}",
            "SENTINEL__BOX__AUTH__DEVELOPER_TOKEN": "emulator-token",
        }
        whoami = subprocess.run(
            [SENTINEL, "box", "whoami"],
            capture_output=True,
            check=False,
            text=True,
            env=client_env,
            cwd=tmp_path,
            timeout=60,
        )
        listing = subprocess.run(
            [SENTINEL, "box", "ls", "/missing"],
            capture_output=True,
            check=False,
            text=True,
            env=client_env,
            cwd=tmp_path,
            timeout=60,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert whoami.returncode == 0, whoami.stderr
    assert "Sentinel Emulator" in whoami.stdout
    assert listing.returncode != 0
    assert "does not exist" in listing.stderr
    assert process.returncode == 0, err
    assert "stopped" in out


def test_emulator_command_prints_accepted_token(tmp_path: Path) -> None:
    env = _clean_env()
    process = _start_emulator(tmp_path, _free_port(), "--token", "devtok123")
    printed: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            name, sep, value = line.strip().partition("=")
            if sep and name.startswith("SENTINEL__"):
                printed[name] = value
            if name == "SENTINEL__BOX__AUTH__DEVELOPER_TOKEN":
                break
        whoami = subprocess.run(
            [SENTINEL, "box", "whoami"],
            capture_output=True,
            check=False,
            text=True,
            env={**env, **printed},
            cwd=tmp_path,
            timeout=60,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert printed["SENTINEL__BOX__AUTH__DEVELOPER_TOKEN"] == "devtok123"
    assert whoami.returncode == 0, whoami.stderr
    assert "devtok123" not in err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--port", "-1"), ("--port", "65536"), ("--latency", "-0.5")],
    ids=["port-negative", "port-too-large", "latency-negative"],
)
def test_emulator_command_rejects_out_of_range(
    tmp_path: Path, option: str, value: str
) -> None:
    from click.testing import CliRunner

    from sentinel.core.cli import cli

    env: dict[str, str | None] = {
        key: None for key in os.environ if key.startswith("SENTINEL")
    }
    arguments = ["box", "emulator", "--root", str(tmp_path / "box"), option, value]

    result = CliRunner().invoke(cli, arguments, env=env)

    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert not (tmp_path / "box").exists()


def test_accepted_token_follows_token_list() -> None:
    from sentinel.box._emulator._command import _accepted_token

    assert _accepted_token(None) == "emulator-token"
    assert _accepted_token(["first", "second"]) == "first"
    assert _accepted_token([]) is None


def test_startup_starts_emulator_without_credentials(tmp_path: Path) -> None:
    from sentinel.core import Agent

    host, config = _bootstrap(tmp_path)
    agent = Agent(config, host, tmp_path)
    plugin.sentinel_startup(agent)
    try:
        emulator = agent.service(plugin.EMULATOR_SERVICE)
        assert emulator.running
        assert agent.runtime_env["SENTINEL__BOX__API_URL"] == emulator.api_url
        assert agent.runtime_env["SENTINEL__BOX__AUTH__DEVELOPER_TOKEN"]
        assert (tmp_path / ".sentinel" / "box" / ".box-emulator").is_dir()
    finally:
        plugin.sentinel_shutdown(agent)
    assert not emulator.running


def test_startup_skips_emulator_with_token(tmp_path: Path) -> None:
    from sentinel.core import Agent

    host, config = _bootstrap(
        tmp_path, "default:\n  box:\n    auth:\n      developer_token: t\n"
    )
    agent = Agent(config, host, tmp_path)
    plugin.sentinel_startup(agent)
    assert not agent.has_service(plugin.EMULATOR_SERVICE)
    assert agent.runtime_env == {}


def _bootstrap(tmp_path: Path, text: str = "default: {}\n"):  # type: ignore[no-untyped-def]
    from sentinel.core import bootstrap

    path = tmp_path / "sentinel.yaml"
    path.write_text(text)
    return bootstrap(env=None, config_path=str(path))
