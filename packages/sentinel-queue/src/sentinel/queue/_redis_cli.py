"""The ``sentinel redis`` command group: inspect the server with SCAN, never KEYS.

KEYS blocks a server for as long as it walks every key; SCAN walks in
small steps, so these commands are safe on a busy production server.
"""

from __future__ import annotations

import json
from typing import Any

import click

from sentinel.core import redact_url
from sentinel.queue._cli import _load, server_url
from sentinel.queue._connect import check_connection, connect_url
from sentinel.queue._errors import QueueError
from sentinel.queue._keys import PREFIX

SCAN_COUNT = 500
SIZE_COMMANDS = {
    "string": "STRLEN",
    "list": "LLEN",
    "set": "SCARD",
    "zset": "ZCARD",
    "hash": "HLEN",
    "stream": "XLEN",
}


def _client() -> tuple[Any, str]:
    _, config, _ = _load()
    url = server_url(config.section("queue"))
    try:
        client = connect_url(url)
        check_connection(client, url)
    except QueueError as exc:
        raise click.ClickException(str(exc)) from exc
    return client, url


def _emit(value: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(value, indent=2, default=str))
    else:
        for line in lines:
            click.echo(line)


@click.group("redis")
def group() -> None:
    """Inspect the Redis server of the queue; every listing uses SCAN."""


@group.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(as_json: bool) -> None:
    """Print the server's version, memory, clients and key count."""
    client, url = _client()
    server = client.info()
    summary = {
        "url": redact_url(url),
        "version": server.get("valkey_version") or server.get("redis_version"),
        "mode": server.get("redis_mode") or server.get("server_mode"),
        "uptime_seconds": server.get("uptime_in_seconds"),
        "connected_clients": server.get("connected_clients"),
        "used_memory_human": server.get("used_memory_human"),
        "aof_enabled": server.get("aof_enabled"),
        "keys": client.dbsize(),
    }
    _emit(summary, as_json, [f"{key:<18} {value}" for key, value in summary.items()])


@group.command()
@click.option("--match", "pattern", default="*", show_default=True)
@click.option("--type", "key_type", help="Only keys of this type (hash, zset, ...).")
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def keys(pattern: str, key_type: str | None, limit: int, as_json: bool) -> None:
    """List keys matching a pattern with their type and size, by SCAN."""
    client, _ = _client()
    rows = []
    for key in client.scan_iter(match=pattern, count=SCAN_COUNT, _type=key_type):
        kind = client.type(key)
        command = SIZE_COMMANDS.get(kind)
        size = client.execute_command(command, key) if command else None
        rows.append({"key": key, "type": kind, "size": size})
        if len(rows) >= limit:
            break
    rows.sort(key=lambda row: row["key"])
    _emit(rows, as_json, [f"{r['type']:<7} {r['size']!s:>8}  {r['key']}" for r in rows])


@group.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def queues(as_json: bool) -> None:
    """List the sentinel queues on the server with their job counts."""
    from sentinel.queue._queue import Queue

    client, _ = _client()
    names = set()
    for key in client.scan_iter(match=f"{PREFIX}:{{*}}:*", count=SCAN_COUNT):
        inner = key[len(PREFIX) + 2 :]
        names.add(inner.split("}:", 1)[0])
    report = {name: Queue(client, name).counts() for name in sorted(names)}
    _emit(
        report,
        as_json,
        [
            f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items())
            for name, counts in report.items()
        ],
    )
