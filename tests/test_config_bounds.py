"""Declared bounds and URL schemes are checked when the config is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sentinel.core.cli import cli

# (YAML of the section, key, written value, expected) for one bad value each.
BAD_VALUES = [
    pytest.param(
        "queue: {workers: -3}",
        "queue.workers",
        "-3",
        "expected an integer from 1 to 1024",
        id="queue-workers",
    ),
    pytest.param(
        "queue: {threads: 300}",
        "queue.threads",
        "300",
        "expected an integer from 1 to 256",
        id="queue-threads",
    ),
    pytest.param(
        "queue: {fetch_linger: 0.5}",
        "queue.fetch_linger",
        "0.5",
        "expected a number from 0 to 0.1",
        id="queue-fetch-linger",
    ),
    pytest.param(
        "queue: {url: 'not a url'}",
        "queue.url",
        "'not a url'",
        "expected a URL that starts with one of redis://, rediss://",
        id="queue-url",
    ),
    pytest.param(
        "web: {port: 99999}",
        "web.port",
        "99999",
        "expected an integer from 0 to 65535",
        id="web-port",
    ),
    pytest.param(
        "files: {quiet_seconds: -1}",
        "files.quiet_seconds",
        "-1",
        "expected a number from 0 to 86400",
        id="files-quiet-seconds",
    ),
    pytest.param(
        "files: {settle_seconds: -0.5}",
        "files.settle_seconds",
        "-0.5",
        "expected a number from 0 to 86400",
        id="files-settle-seconds",
    ),
    pytest.param(
        "box: {api_url: 'ftp://box.example'}",
        "box.api_url",
        "'ftp://box.example'",
        "expected a URL that starts with one of http://, https://",
        id="box-api-url",
    ),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("SENTINEL_CONFIG", "SENTINEL_ENV", "SENTINEL__QUEUE__URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "--env", "prod", *args])


def write_config(workdir: Path, section: str) -> Path:
    # The bad value sits in the prod section on line 4, over a valid default.
    path = workdir / "b.yaml"
    path.write_text(
        f"default:\n  queue: {{workers: 2}}\nprod:\n  {section}\n", encoding="utf-8"
    )
    return path


@pytest.mark.parametrize("command", [["config", "show"], ["run"]], ids=["show", "run"])
@pytest.mark.parametrize(("section", "key", "written", "expected"), BAD_VALUES)
def test_bad_value_reported_with_origin(
    workdir: Path,
    command: list[str],
    section: str,
    key: str,
    written: str,
    expected: str,
) -> None:
    path = write_config(workdir, section)
    result = invoke(path, *command)
    assert result.exit_code == 1, result.output
    assert f"{path}:4" in result.output
    assert "environment section 'prod'" in result.output
    assert f"key {key!r}" in result.output
    assert f"has value {written}" in result.output
    assert expected in result.output
    # Loading fails before run starts anything.
    assert not (workdir / ".sentinel").exists()


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://:pw@redis.internal:6380/1",
        "unix:///run/redis.sock",
        "redis+cluster://127.0.0.1:7000",
        "redis+sentinel://127.0.0.1:26379/mymaster",
    ],
    ids=["redis", "rediss", "unix", "cluster", "sentinel"],
)
def test_queue_url_schemes_accepted(workdir: Path, url: str) -> None:
    path = write_config(workdir, f"queue: {{url: '{url}'}}")
    result = invoke(path, "config", "show", "--json")
    assert result.exit_code == 0, result.output


def test_bounds_accept_limits(workdir: Path) -> None:
    section = (
        "{queue: {workers: 1, threads: 256, fetch_linger: 0.1}, web: {port: 0},"
        " files: {quiet_seconds: 0, settle_seconds: 0}}"
    )
    path = workdir / "b.yaml"
    path.write_text(f"default: {section}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "show"])
    assert result.exit_code == 0, result.output


def test_environment_override_reported(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTINEL__QUEUE__WORKERS", "-3")
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 1
    assert "environment variable SENTINEL__QUEUE__WORKERS" in result.output
    assert "expected an integer from 1 to 1024" in result.output


def test_schema_states_bounds_and_schemes(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "schema"])
    assert result.exit_code == 0, result.output
    properties = json.loads(result.output)["properties"]
    assert properties["queue"]["properties"]["workers"]["minimum"] == 1
    assert properties["web"]["properties"]["port"]["maximum"] == 65535
    assert properties["files"]["properties"]["quiet_seconds"]["minimum"] == 0
    pattern = properties["queue"]["properties"]["url"]["pattern"]
    assert pattern.startswith("^(redis|rediss|unix|redis\\+cluster")
