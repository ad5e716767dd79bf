"""Tests of the sentinel box commands and of the plugin's run hooks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import sentinel.box
from sentinel.box import plugin
from sentinel.core import plugin_declarations

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
