"""The ``sentinel`` command line: built-in commands plus those plugins add."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from sentinel.core._errors import ConfigError, SentinelError
from sentinel.core._names import (
    ALLOW_ENV,
    DISABLE_ENV,
    ENV_ENV,
    STRICT_ENV,
    TRACE_ENV,
)

if TYPE_CHECKING:
    from sentinel.core._config import Config
    from sentinel.core._plugins import PluginHost
    from sentinel.core._types import CommandSpec

# This module imports click and little else: ``sentinel --help`` reads
# the saved listing (sentinel.core._listing) when it applies, and everything
# else is imported by the command that uses it.

BUILTIN_COMMANDS = ("config", "plugins", "run", "version")


class CliState:
    """Options of the ``sentinel`` group; the host and config load on first use."""

    def __init__(
        self,
        env: str | None = None,
        config_path: str | None = None,
        strict: bool | None = None,
        verbose: int = 0,
        *,
        disable: tuple[str, ...] = (),
        only: tuple[str, ...] = (),
        trace: bool | None = None,
    ) -> None:
        self.env = env
        self.config_path = config_path
        self.strict = strict
        self.verbose = verbose
        self.disable = disable
        self.only = only
        self.trace = trace
        self.import_all = False
        # Set when a help option follows the subcommand name.
        self.help_requested = False
        self._help_host: PluginHost | None = None
        self._host: PluginHost | None = None
        self._config: Config | None = None
        self._listing: dict[str, Any] | None = None

    def set_options(self, params: dict[str, Any]) -> None:
        """Store the group's parsed options. Call it before the host loads."""
        self.env = params.get("env")
        self.config_path = params.get("config_path")
        self.strict = params.get("strict")
        self.verbose = params.get("verbose") or 0
        self.disable = _split(params.get("disable") or ())
        self.only = _split(params.get("only") or ())
        self.trace = params.get("trace")

    def _load(self) -> None:
        import logging

        from sentinel.core._listing import recording_warnings, save_listing
        from sentinel.core._logging import configure_logging
        from sentinel.core._runtime import bootstrap

        def load() -> tuple[PluginHost, Config]:
            return bootstrap(
                self.env,
                self.config_path,
                strict=self.strict,
                disable=self.disable,
                only=self.only,
                trace=self.trace,
                import_plugins=self.import_all,
            )

        if self._default_options():
            with recording_warnings() as warnings:
                self._host, self._config = load()
            save_listing(self._host, warnings)
        else:
            self._host, self._config = load()
        # The CLI, not library code, owns logging: every command that reads the
        # config logs the way its environment section says.
        configure_logging(
            self._config.section("logging"), self._host.registry, self.verbose
        )
        logging.getLogger(__name__).debug(
            "config loaded from %s, environment %s",
            self._config.path or "built-in defaults",
            self._config.env or "default",
        )

    def _default_options(self) -> bool:
        """Tell whether no option of the group changes which plugins load."""
        return (
            self.env is None
            and self.config_path is None
            and not self.strict
            and not self.verbose
            and not self.disable
            and not self.only
            and not self.trace
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

    def listing(self) -> dict[str, Any]:
        """Return plugins, conflicts and command help, saved or freshly loaded.

        The saved listing is used only while nothing loaded yet and nothing
        selects plugins; otherwise the host is loaded and asked.
        """
        if self._listing is None and self._host is None and self._default_options():
            self._listing = _saved_listing()
        if self._listing is not None:
            return self._listing
        return self._host_listing()

    def _host_listing(self) -> dict[str, Any]:
        host = self.host
        return {
            "plugins": [info.as_dict() for info in host.plugins],
            "conflicts": [conflict.as_dict() for conflict in host.conflicts],
            "commands": {
                name: [spec.help, plugin_id]
                for name, (spec, plugin_id) in self.plugin_commands().items()
            },
        }

    def help_host(self) -> PluginHost:
        """Return a plugin host loaded without validating the config.

        Help pages use it while the config is invalid. The host and config of
        :attr:`host` and :attr:`config` stay unloaded, so a command that runs
        still fails with the config error.
        """
        if self._help_host is None:
            from sentinel.core._runtime import load_plugin_host

            self._help_host = load_plugin_host(
                self.env, self.config_path, disable=self.disable, only=self.only
            )
        return self._help_host

    def plugin_commands(
        self, host: PluginHost | None = None
    ) -> dict[str, tuple[CommandSpec, str]]:
        """Return plugin commands by name, leaving out names the core owns."""
        from sentinel.core._plugins import warn_once

        commands = (host or self.host).commands()
        for name in BUILTIN_COMMANDS:
            if name in commands:
                warn_once(
                    "plugin %s declares command %r, which the core owns; ignored",
                    commands[name][1],
                    name,
                )
                del commands[name]
        return commands


def _saved_listing() -> dict[str, Any] | None:
    from sentinel.core._listing import listing_applies, print_warnings, saved_listing

    saved = saved_listing() if listing_applies() else None
    if saved is None or set(saved["commands"]) & set(BUILTIN_COMMANDS):
        # A plugin command named like a built-in one needs the host's warning.
        return None
    print_warnings(saved)
    return saved


def _state(ctx: click.Context) -> CliState:
    state = ctx.find_object(CliState)
    return state if state is not None else ctx.ensure_object(CliState)


def _terminal_columns() -> int:
    """Return the columns ``shutil.get_terminal_size`` would report.

    COLUMNS is used when it contains a positive number, then the size of the
    terminal on standard output, then 80. Importing shutil instead would also
    import bz2, lzma and fnmatch, about 2.5 ms on the development machine.
    """
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    stdout = sys.__stdout__
    if columns <= 0 and stdout is not None:
        try:
            columns = os.get_terminal_size(stdout.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class SentinelContext(click.Context):
    """A context that measures the help width itself, as click would.

    Subcommand contexts inherit the width from their parent, so no help
    page of the CLI makes click import shutil.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # CliRunner forces a width through FORCED_WIDTH, which click reads
        # only while the context leaves the width unset.
        if self.terminal_width is None and click.formatting.FORCED_WIDTH is None:
            max_width = self.max_content_width or 80
            self.terminal_width = max(min(_terminal_columns(), max_width) - 2, 50)


class SentinelGroup(click.Group):
    """A group whose plugin commands are imported only when they run."""

    context_class = SentinelContext

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_state(ctx).listing()["commands"]})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # click looks up the subcommand, and --help lists the commands, before
        # the group callback runs. Both load the plugins, so the options that
        # select plugins and the config are read from the arguments first.
        if not ctx.resilient_parsing:
            _state(ctx).set_options(_peek_options(self, ctx, args))
        return super().parse_args(ctx, args)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # Arguments after "--" are not options, so a help option there does not count.
        options = args[1 : args.index("--")] if "--" in args else args[1:]
        help_names = ctx.help_option_names
        _state(ctx).help_requested = any(arg in help_names for arg in options)
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        builtin = super().get_command(ctx, cmd_name)
        if builtin is not None:
            return builtin
        state = _state(ctx)
        try:
            host = state.host
        except ConfigError as exc:
            # Help must work while the config is invalid, so that a user can
            # still read how to fix it. Running the command raises the error.
            if not state.help_requested:
                raise
            click.echo(
                f"Warning: the config is invalid, so commands fail until it is "
                f"fixed:\n{exc}\n",
                err=True,
            )
            host = state.help_host()
        found = state.plugin_commands(host).get(cmd_name)
        if found is None:
            owner = host.inactive_command_owner(cmd_name)
            if owner is not None:
                ctx.fail(
                    f"No such command {cmd_name!r}: plugin {owner.id!r}, which "
                    f"provides it, is {owner.status}. See 'sentinel plugins'."
                )
            return None
        spec, plugin_id = found
        from sentinel.core._imports import import_target

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
        # Help must work while the config is invalid, so that a user can
        # still read how to fix it: the error replaces the plugin commands.
        unlisted = None
        try:
            commands = _state(ctx).listing()["commands"]
        except SentinelError as exc:
            commands, unlisted = {}, str(exc)
        for name, (help_text, plugin_id) in sorted(commands.items()):
            rows.append((name, f"{help_text} [{plugin_id}]".strip()))
        rows.sort()
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
        if unlisted is not None:
            with formatter.section("Plugin commands are not listed"):
                # Keep the error's own line breaks: YAML errors point at a
                # line and column on lines of their own.
                for line in unlisted.splitlines():
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SentinelError as exc:
            raise click.ClickException(str(exc)) from exc


def _peek_options(
    group: click.Group, ctx: click.Context, args: list[str]
) -> dict[str, Any]:
    """Return the group's option values in ``args`` without running callbacks.

    Resilient parsing skips --help and leaves invalid values as None; the
    real parse that follows reports them.
    """
    probe = click.Context(
        group, info_name=ctx.info_name, parent=ctx.parent, resilient_parsing=True
    )
    click.Command.parse_args(group, probe, list(args))
    return probe.params


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        item.strip() for value in values for item in value.split(",") if item.strip()
    )


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
@click.option(
    "--disable",
    "disable",
    multiple=True,
    metavar="ID[,ID]",
    help=f"Skip plugins by the id 'sentinel plugins' shows (also ${DISABLE_ENV}).",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="ID[,ID]",
    help=f"Load only these plugins, and the core (also ${ALLOW_ENV}).",
)
@click.option(
    "--trace-hooks",
    "trace",
    is_flag=True,
    default=None,
    help=f"Print every hook call with its plugin and duration (also ${TRACE_ENV}=1).",
)
@click.option("-v", "--verbose", count=True, help="Log debug messages.")
@click.pass_context
def cli(
    ctx: click.Context,
    *,
    env: str | None,
    config_path: str | None,
    strict: bool | None,
    disable: tuple[str, ...],
    only: tuple[str, ...],
    trace: bool | None,
    verbose: int,
) -> None:
    """Sentinel: watch folders, queue work, move files to and from Box."""
    # SentinelGroup.parse_args has stored the options in the CliState.
    if strict:
        # Load now so a broken plugin fails the command before it starts.
        _ = _state(ctx).host


@cli.command()
def version() -> None:
    """Print the versions of the core and of every plugin distribution."""
    state = _state(click.get_current_context())
    for info in state.host.plugins:
        click.echo(f"{info.id}: {info.distribution or '-'} {info.version or '-'}")


@cli.group(invoke_without_command=True)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per plugin."
)
@click.option(
    "--timings", is_flag=True, help="Import every plugin and show its import time."
)
@click.pass_context
def plugins(ctx: click.Context, as_json: bool, timings: bool) -> None:
    """List plugins: id, distribution, version, status, what each provides.

    The id is the name that --disable, --only, SENTINEL_DISABLE_PLUGINS,
    SENTINEL_PLUGINS and plugins.disable accept. Every enabled plugin is
    imported, so a plugin whose import fails is listed as failed.
    """
    if ctx.invoked_subcommand is not None:
        return
    state = _state(ctx)
    # Declarations alone cannot show an import failure; --help reads them.
    state.host.import_plugins()
    listing = state.listing()
    if as_json:
        click.echo(json.dumps(listing["plugins"], indent=2))
        return
    _print_plugins(listing, timings)
    if timings and state.host.scan is not None:
        scan = state.host.scan
        source = "cache" if scan.from_cache else "scan of installed distributions"
        click.echo(f"discovery: {scan.seconds * 1000:.1f} ms from {source}")


def _print_plugins(listing: dict[str, Any], timings: bool) -> None:
    headers = ["ID", "DISTRIBUTION", "VERSION", "STATUS"]
    if timings:
        headers.append("IMPORT")
    rows = []
    for info in listing["plugins"]:
        row = [
            info["id"],
            info["distribution"] or "-",
            info["version"] or "-",
            info["status"],
        ]
        if timings:
            seconds = info["import_seconds"]
            row.append("-" if seconds is None else f"{seconds * 1000:.1f} ms")
        detail = info["error"] or _provides_text(info["provides"])
        rows.append((row, detail))
    widths = [
        max(len(cells[i]) for cells in [headers, *(row for row, _ in rows)])
        for i in range(len(headers))
    ]
    for cells, detail in [(headers, "PROVIDES / ERROR"), *rows]:
        line = "  ".join(
            cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
        )
        click.echo(f"{line}  {detail}".rstrip())
    for conflict in listing["conflicts"]:
        if conflict["by_config"]:
            how = "plugins.prefer"
        elif conflict.get("by_owner"):
            how = "it owns the name"
        else:
            how = "id order; set plugins.prefer"
        click.echo(
            f"conflict: {conflict['key']} is declared by "
            f"{', '.join(conflict['plugins'])}; {conflict['chosen']} wins ({how})"
        )


def _provides_text(provides: dict[str, list[str]]) -> str:
    return "; ".join(
        f"{kind}: {', '.join(names)}" for kind, names in sorted(provides.items())
    )


@plugins.command("check")
@click.argument("ids", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def plugins_check(ids: tuple[str, ...], as_json: bool) -> None:
    """Import and validate plugins: hooks, declarations, metadata, imports.

    Checks every installed plugin, or only the given ids. Exits with status 1
    when any error is found; warnings alone exit 0.
    """
    from sentinel.core._check import ERROR, check_plugins

    host = _state(click.get_current_context()).host
    problems = check_plugins(host, ids)
    if as_json:
        click.echo(json.dumps([problem.as_dict() for problem in problems], indent=2))
    else:
        for problem in problems:
            click.echo(f"{problem.level}: {problem.plugin}: {problem.message}")
        checked = [info.id for info in host.plugins if not ids or info.id in ids]
        errors = sum(problem.level == ERROR for problem in problems)
        click.echo(
            f"checked {len(checked)} plugins: {errors} errors, "
            f"{len(problems) - errors} warnings"
        )
    if any(problem.level == ERROR for problem in problems):
        sys.exit(1)


@plugins.command("order")
@click.argument("hook")
def plugins_order(hook: str) -> None:
    """Print the plugins that implement HOOK in the order they are called.

    The order depends on plugin ids and tryfirst/trylast marks only, never on
    the order distributions were installed in.
    """
    host = _state(click.get_current_context()).host
    name = hook if hook.startswith("sentinel_") else f"sentinel_{hook}"
    order = host.hook_order(name)
    if not order:
        click.echo(f"no plugin implements {name}")
    for position, (plugin_id, placement) in enumerate(order, start=1):
        click.echo(
            f"{position}. {plugin_id}" + (f" ({placement})" if placement else "")
        )


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
    import yaml

    click.echo(yaml.safe_dump(values, sort_keys=False, allow_unicode=True).rstrip())


@config.command("schema")
def config_schema_command() -> None:
    """Print the JSON Schema of one environment section, from every plugin."""
    from sentinel.core._schema import config_schema

    host = _state(click.get_current_context()).host
    click.echo(json.dumps(config_schema(host.config_sections()), indent=2))


@cli.command()
def run() -> None:
    """Run the agent: watch folders, queue and process files, serve the dashboard."""
    from pathlib import Path

    from sentinel.core._agent import Agent
    from sentinel.core._run import install_signal_handlers, run_agent

    state = _state(click.get_current_context())
    # Import every plugin before the config loads, so a plugin that fails to
    # import contributes no config section to validate against.
    state.import_all = True
    host, cfg = state.host, state.config
    agent = Agent(cfg, host, Path.cwd())
    for name in ("SENTINEL_ENV", "SENTINEL_CONFIG"):
        value = cfg.env if name == "SENTINEL_ENV" else cfg.path
        if value is not None:
            agent.runtime_env[name] = (
                str(Path(value).resolve()) if name == "SENTINEL_CONFIG" else str(value)
            )
    install_signal_handlers(agent)
    exit_code = run_agent(agent)
    sys.exit(exit_code)


def main() -> None:
    """Entry point of the ``sentinel`` console script."""
    cli(prog_name="sentinel")


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy, so that plugin
    # commands and this module share one CliState class.
    from sentinel.core.cli import main as imported_main

    imported_main()
