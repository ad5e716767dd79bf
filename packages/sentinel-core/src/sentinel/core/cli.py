"""The ``sentinel`` command line: built-in commands plus those plugins add."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click
import yaml

from sentinel.core._agent import Agent
from sentinel.core._config import ENV_ENV, Config
from sentinel.core._errors import SentinelError
from sentinel.core._imports import import_target
from sentinel.core._logging import configure_logging
from sentinel.core._plugins import STRICT_ENV, PluginHost
from sentinel.core._runtime import bootstrap
from sentinel.core._types import CommandSpec

logger = logging.getLogger(__name__)

BUILTIN_COMMANDS = ("config", "plugins", "run", "version")


class CliState:
    """Options of the ``sentinel`` group; the host and config load on first use."""

    def __init__(
        self,
        env: str | None = None,
        config_path: str | None = None,
        strict: bool | None = None,
        verbose: int = 0,
    ) -> None:
        self.env = env
        self.config_path = config_path
        self.strict = strict
        self.verbose = verbose
        self._host: PluginHost | None = None
        self._config: Config | None = None

    def _load(self) -> None:
        self._host, self._config = bootstrap(
            self.env, self.config_path, strict=self.strict
        )
        # The CLI, not library code, owns logging: every command that reads the
        # config logs the way its environment section says.
        configure_logging(
            self._config.section("logging"), self._host.registry, self.verbose
        )
        logger.debug(
            "config loaded from %s, environment %s",
            self._config.path or "built-in defaults",
            self._config.env or "default",
        )

    @property
    def host(self) -> PluginHost:
        """The plugin host, loaded on first use."""
        if self._host is None:
            self._load()
        assert self._host is not None
        return self._host

    @property
    def config(self) -> Config:
        """The merged config, loaded on first use."""
        if self._config is None:
            self._load()
        assert self._config is not None
        return self._config

    def plugin_commands(self) -> dict[str, tuple[CommandSpec, str]]:
        """Return plugin commands by name, leaving out names the core owns."""
        commands = self.host.commands()
        for name in BUILTIN_COMMANDS:
            if name in commands:
                logger.warning(
                    "plugin %s declares command %r, which the core owns; ignored",
                    commands[name][1],
                    name,
                )
                del commands[name]
        return commands


def _state(ctx: click.Context) -> CliState:
    state = ctx.find_object(CliState)
    return state if state is not None else ctx.ensure_object(CliState)


class SentinelGroup(click.Group):
    """A group whose plugin commands are imported only when they run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_state(ctx).plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        builtin = super().get_command(ctx, cmd_name)
        if builtin is not None:
            return builtin
        found = _state(ctx).plugin_commands().get(cmd_name)
        if found is None:
            return None
        spec, plugin_id = found
        try:
            command = import_target(spec.target)
        except SentinelError as exc:
            return _broken_command(cmd_name, plugin_id, str(exc))
        if not isinstance(command, click.Command):
            message = f"{spec.target} is not a click command"
            return _broken_command(cmd_name, plugin_id, message)
        return command

    def format_commands(
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        # Help comes from the declarations, so --help imports no plugin code.
        rows = []
        for name in BUILTIN_COMMANDS:
            command = super().get_command(ctx, name)
            if command is not None:
                rows.append((name, command.get_short_help_str(60)))
        for name, (spec, plugin_id) in sorted(_state(ctx).plugin_commands().items()):
            rows.append((name, f"{spec.help} [{plugin_id}]".strip()))
        rows.sort()
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SentinelError as exc:
            raise click.ClickException(str(exc)) from exc


def _broken_command(name: str, plugin_id: str, error: str) -> click.Command:
    def fail() -> None:
        raise click.ClickException(f"command {name!r} of plugin {plugin_id!r}: {error}")

    return click.Command(name, callback=fail, help=f"Unavailable: {error}")


@click.group(
    cls=SentinelGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--env",
    "env",
    envvar=ENV_ENV,
    help="Config environment section to merge over 'default'.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $SENTINEL_CONFIG or ./sentinel.yaml).",
)
@click.option(
    "--strict/--no-strict",
    default=None,
    help=f"Fail when any plugin cannot be loaded (also ${STRICT_ENV}=1).",
)
@click.option("-v", "--verbose", count=True, help="Log debug messages.")
@click.pass_context
def cli(
    ctx: click.Context,
    env: str | None,
    config_path: str | None,
    strict: bool | None,
    verbose: int,
) -> None:
    """Sentinel: watch folders, queue work, move files to and from Box."""
    state = _state(ctx)
    state.env, state.config_path, state.strict, state.verbose = (
        env,
        config_path,
        strict,
        verbose,
    )
    if strict:
        # Load now so a broken plugin fails the command before it starts.
        _ = state.host


@cli.command()
def version() -> None:
    """Print the versions of the core and of every plugin distribution."""
    state = _state(click.get_current_context())
    for info in state.host.plugins:
        click.echo(f"{info.id}: {info.distribution or '-'} {info.version or '-'}")


@cli.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per plugin."
)
def plugins(as_json: bool) -> None:
    """List plugins with their distribution, version, status and hooks or error."""
    state = _state(click.get_current_context())
    records = [info.as_dict() for info in state.host.plugins]
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    headers = ("ID", "DISTRIBUTION", "VERSION", "STATUS", "HOOKS / ERROR")
    rows = [
        (
            r["id"],
            r["distribution"] or "-",
            r["version"] or "-",
            r["status"],
            r["error"] or ", ".join(h.removeprefix("sentinel_") for h in r["hooks"]),
        )
        for r in records
    ]
    widths = [max(len(str(row[i])) for row in (headers, *rows)) for i in range(4)]
    for row in (headers, *rows):
        cells = [
            str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)
        ]
        click.echo("  ".join([*cells, str(row[4])]).rstrip())


@cli.group()
def config() -> None:
    """Show the merged configuration."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
def config_show(as_json: bool) -> None:
    """Print the merged config of the chosen environment, secrets redacted."""
    state = _state(click.get_current_context())
    cfg = state.config
    values = cfg.redacted()
    if as_json:
        click.echo(json.dumps(values, indent=2, default=str))
        return
    click.echo(f"# file: {cfg.path or '(none: built-in defaults)'}")
    click.echo(f"# environment: {cfg.env or 'default'}")
    click.echo(yaml.safe_dump(values, sort_keys=False, allow_unicode=True).rstrip())


@cli.command()
def run() -> None:
    """Run the agent: watch folders, queue and process files, serve the dashboard."""
    state = _state(click.get_current_context())
    host, cfg = state.host, state.config
    agent = Agent(cfg, host, Path.cwd())
    for name in ("SENTINEL_ENV", "SENTINEL_CONFIG"):
        value = cfg.env if name == "SENTINEL_ENV" else cfg.path
        if value is not None:
            agent.runtime_env[name] = (
                str(Path(value).resolve()) if name == "SENTINEL_CONFIG" else str(value)
            )
    _install_signal_handlers(agent)
    exit_code = _run_agent(agent)
    sys.exit(exit_code)


def _install_signal_handlers(agent: Agent) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if agent.stop_event.is_set():
            # A second signal: the user wants out now; leases bring jobs back.
            os._exit(130)
        agent.request_stop(f"received {name}")

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _run_agent(agent: Agent) -> int:
    started = False
    try:
        _call_phase(agent, "sentinel_startup")
        _call_phase(agent, "sentinel_ready")
        started = True
        click.echo("sentinel is running; press Ctrl-C to stop", err=True)
        while not agent.stop_event.wait(0.5):
            pass
    except SentinelError as exc:
        logger.error("start-up failed: %s", exc)
    finally:
        _call_phase(agent, "sentinel_shutdown", stop_on_error=False)
        logger.info("stopped")
    return 0 if started else 1


def _call_phase(agent: Agent, hook_name: str, *, stop_on_error: bool = True) -> None:
    """Call one phase's hooks in pluggy order (tryfirst and trylast respected)."""
    caller = getattr(agent.host.pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        logger.debug("%s: %s", impl.plugin_name, hook_name)
        try:
            impl.function(agent=agent)
        except Exception as exc:
            logger.exception("plugin %s failed in %s", impl.plugin_name, hook_name)
            if stop_on_error:
                raise SentinelError(
                    f"plugin {impl.plugin_name!r} failed in {hook_name}: {exc}"
                ) from exc


def main() -> None:
    """Entry point of the ``sentinel`` console script."""
    cli(prog_name="sentinel")


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy, so that plugin
    # commands and this module share one CliState class.
    from sentinel.core.cli import main as imported_main

    imported_main()
