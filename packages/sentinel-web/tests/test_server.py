"""Tests of WebServer, the plugin hooks and the ``sentinel web`` command."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import sentinel.web
import sentinel.web.plugin
from sentinel.core import Agent, PluginHost, load_config, plugin_declarations
from sentinel.queue import find_free_port
from sentinel.web import WebServer, WebServerError


def fetch_json(url: str) -> Any:
    # Loopback only: the URL is always one of the test's own servers.
    with urllib.request.urlopen(url, timeout=20) as response:
        return json.load(response)


def test_server_binds_loopback_by_default(bare_agent: Agent) -> None:
    server = WebServer(bare_agent, port=0)
    server.start()
    try:
        host, port = server.address
        assert host == "127.0.0.1"
        assert port > 0
        assert server.url == f"http://127.0.0.1:{port}/"
        body = fetch_json(f"{server.url}api/status")
        assert {plugin["id"] for plugin in body["plugins"]} == {"web", "demo"}
    finally:
        server.stop()


def test_server_defaults_are_loopback_and_8765(bare_agent: Agent) -> None:
    server = WebServer(bare_agent)

    assert server.host == "127.0.0.1"
    assert server.port == 8765


def test_server_not_reachable_after_stop(bare_agent: Agent) -> None:
    server = WebServer(bare_agent, port=0)
    server.start()
    _, port = server.address
    server.stop()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), 5).close()


def test_server_port_in_use_raises(bare_agent: Agent) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = WebServer(bare_agent, port=port)

        with pytest.raises(WebServerError, match=f"127.0.0.1:{port}.*web.port"):
            server.start()


def test_server_start_twice_raises(bare_agent: Agent) -> None:
    server = WebServer(bare_agent, port=0)
    server.start()
    try:
        with pytest.raises(WebServerError, match="already started"):
            server.start()
    finally:
        server.stop()


def test_server_stop_without_start_is_noop(bare_agent: Agent) -> None:
    WebServer(bare_agent, port=0).stop()


def test_server_stop_logs_bound_port(
    bare_agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    server = WebServer(bare_agent, port=0)
    with caplog.at_level(logging.INFO, logger="sentinel.web"):
        server.start()
        _, port = server.address
        server.stop()

    messages = [record.getMessage() for record in caplog.records]
    assert f"web server http://127.0.0.1:{port}/: stopped" in messages
    assert not any(":0" in message for message in messages)


def test_server_url_before_start_raises(bare_agent: Agent) -> None:
    with pytest.raises(WebServerError, match="call start"):
        _ = WebServer(bare_agent, port=0).url


def test_plugin_config_section_defaults() -> None:
    host = PluginHost()
    host.register_module("web", sentinel.web.plugin)
    config = load_config(None, None, sections=host.config_sections(), environ={})

    assert config.section("web") == {"host": "127.0.0.1", "port": 8765}


def test_plugin_declares_web_command() -> None:
    specs = plugin_declarations("sentinel.web.plugin").commands

    assert [spec.name for spec in specs] == ["web"]
    assert specs[0].target == "sentinel.web._cli:web"


def test_plugin_module_imports_no_server_code() -> None:
    code = (
        "import sys, sentinel.web.plugin; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('aiohttp', 'sentinel.web'))))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert "aiohttp" not in output
    assert "sentinel.web._server" not in output


def test_plugin_ready_starts_and_shutdown_stops(
    host: PluginHost,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = load_config(
        None,
        None,
        sections=host.config_sections(),
        environ={"SENTINEL__WEB__PORT": "0"},
    )
    agent = Agent(config, host, tmp_path)

    with caplog.at_level(logging.INFO, logger="sentinel.web"):
        sentinel.web.plugin.sentinel_ready(agent)
    server = agent.service("web")
    try:
        assert isinstance(server, WebServer)
        assert server.address[0] == "127.0.0.1"
        assert f"dashboard at {server.url}" in capsys.readouterr().out
        assert fetch_json(f"{server.url}api/status")["queue"] is None
    finally:
        sentinel.web.plugin.sentinel_shutdown(agent)

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(server.address, 5).close()


def test_plugin_shutdown_without_server_is_noop(bare_agent: Agent) -> None:
    sentinel.web.plugin.sentinel_shutdown(bare_agent)


def test_public_api_is_sorted_and_importable() -> None:
    names = sentinel.web.__all__

    assert names == sorted(names)
    assert set(names) == set(sentinel.web._MODULES)
    for name in names:
        assert hasattr(sentinel.web, name), name


def test_web_help_is_plain_text() -> None:
    from click.testing import CliRunner

    from sentinel.web._cli import web

    for arguments in (["--help"], ["serve", "--help"]):
        result = CliRunner().invoke(web, arguments)

        assert result.exit_code == 0, result.output
        assert "``" not in result.output, arguments
        assert ":func:" not in result.output, arguments


def test_web_serve_rejects_port_out_of_range() -> None:
    from click.testing import CliRunner

    from sentinel.web._cli import web

    result = CliRunner().invoke(web, ["serve", "--port", "65536"])

    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.output


def test_web_serve_command_serves_dashboard(tmp_path: Path) -> None:
    port = find_free_port()
    env = {**os.environ, "SENTINEL_DISABLE_PLUGINS": "box,files,log,queue"}
    sentinel_cli = Path(sys.executable).with_name("sentinel")
    process = subprocess.Popen(
        [str(sentinel_cli), "web", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == f"dashboard at http://127.0.0.1:{port}/"
        body = fetch_json(f"http://127.0.0.1:{port}/api/status")
        assert any(plugin["id"] == "web" for plugin in body["plugins"])
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
