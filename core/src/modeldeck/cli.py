"""The `modeldeck` command: the grammar's verbs as subcommands, plus up, sandbox, server, plugins.

Human output by default (rich tables), `--json` for machines. Exit code 0 on success, 2 on a user
error (with a one-paragraph explanation), 1 on a runtime failure; never a traceback unless
MODELDECK_DEBUG is set.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

from modeldeck.errors import ModeldeckError, StoreUnavailable, UserError

if TYPE_CHECKING:
    from rich.console import Console

_consoles: dict[bool, Console] = {}


def _console(stderr: bool = False) -> Console:
    """rich's console for stdout (or stderr), made when something is first printed through it:
    `--help` and plain-text answers never import rich."""
    if stderr not in _consoles:
        from rich.console import Console

        _consoles[stderr] = Console(stderr=stderr)
    return _consoles[stderr]


def _table(**kwargs: Any) -> Any:
    from rich.table import Table

    return Table(**kwargs)


def _say(label: str, message: str) -> None:
    """Print a label in red and the message verbatim (no rich markup: `[[...]]` is content)."""
    from rich.text import Text

    _console(stderr=True).print(Text(label + " ", style="bold red") + Text(message), soft_wrap=True)


def _fail(exc: BaseException) -> None:
    if os.environ.get("MODELDECK_DEBUG"):
        raise exc
    if "sqlalchemy" in sys.modules:  # only a store that was opened can have failed
        from modeldeck.store import faults

        exc = faults.user_facing(exc)  # an unreachable or full store: one line, exit 2
    if isinstance(exc, UserError | StoreUnavailable):
        _say("Error:", str(exc))
        sys.exit(2)
    if isinstance(exc, ModeldeckError):
        _say("Failed:", str(exc))
        sys.exit(1)
    _console(stderr=True).print(
        f"[bold red]Unexpected error:[/] {type(exc).__name__}. Set MODELDECK_DEBUG=1 for details.",
        highlight=False,
    )
    sys.exit(1)


_INSECURE_OPEN_MODE = click.option(
    "--insecure-open-mode",
    is_flag=True,
    default=False,
    help="Serve open mode (no principals, no tokens) on a non-loopback --host anyway; "
    "warns on every start.",
)


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (SystemExit, click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
            raise
        except BaseException as exc:
            _fail(exc)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _open_deck(settings: Any = None) -> Any:
    """The in-process deck, or a RemoteDeck when a server URL is configured."""
    from modeldeck.deck_open import open_deck

    return open_deck(settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modeldeck")
def cli() -> None:
    """modeldeck: estimate, request, approve, deploy and account for Model Studio deployments."""
    logging.basicConfig(level=os.environ.get("MODELDECK_LOG_LEVEL", "WARNING"))


def _execute(command: Any) -> Any:
    """Run a parsed command: help, models and estimates from the catalog alone (no store is
    opened or migrated for them), everything else through the deck (local or the server)."""
    from modeldeck.commands import run_without_store
    from modeldeck.settings import load_settings

    settings = load_settings()
    result = run_without_store(command, settings, remote=bool(settings.server.url))
    if result is not None:
        return result
    from modeldeck.identity.credentials import cli_actor  # the store's tokens: not for the above

    deck = _open_deck(settings)
    try:
        actor = cli_actor(deck, settings)
        return deck.run(command, actor)
    finally:
        deck.close()


def _run_grammar(verb: str, words: tuple[str, ...], as_json: bool) -> None:
    from modeldeck.grammar import parse_argv
    from modeldeck.rendering import render

    result = _execute(parse_argv([verb, *words]))
    if as_json:
        click.echo(json.dumps(render(result, "json"), indent=2, default=str))
    else:
        for item in render(result, "cli"):
            if isinstance(item, str):
                click.echo(item)
            else:
                _console().print(item)
    if not result.ok:
        sys.exit(1)


def _complete_words(verb: str) -> Callable[..., list[CompletionItem]]:
    """Shell completion of a verb's `key=` options, read from its command model."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from modeldeck.grammar import KEYS, all_verbs

        info = all_verbs().get(verb)
        if info is None or "=" in incomplete:
            return []
        return [
            CompletionItem(f"{key}=", help=KEYS[key].description)
            for key in info.allowed_keys()
            if key.startswith(incomplete.lower())
        ]

    return complete


class _VerbCommand(click.Command):
    """A grammar verb's command; its `key=value` options (read from the command model) are
    listed when its own help is shown, so listing the commands builds no model."""

    def __init__(self, verb: str, **kwargs: Any) -> None:
        super().__init__(name=verb, **kwargs)
        self.verb = verb

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from modeldeck.grammar import KEYS, all_verbs

        keys = all_verbs()[self.verb].allowed_keys()
        if keys:
            options = "".join(
                f"\n  {key}={KEYS[key].value}  {KEYS[key].description}" for key in keys
            )
            self.epilog = f"Options, written key=value:\n{options}"
        super().format_epilog(ctx, formatter)


def _add_grammar_commands() -> None:
    """One CLI command per verb (plugins' verbs too), its keys listed from the command model."""
    from modeldeck.grammar.verbs import all_verbs

    for verb, info in all_verbs().items():

        def make(v: str) -> Callable[..., None]:
            @_guard
            def command(words: tuple[str, ...], as_json: bool) -> None:
                _run_grammar(v, words, as_json)

            return command

        cmd = _VerbCommand(
            verb,
            callback=make(verb),
            params=[
                click.Argument(["words"], nargs=-1, shell_complete=_complete_words(verb)),
                click.Option(["--json", "as_json"], is_flag=True, help="Machine-readable output."),
            ],
            help=f"{info.description}\n\nUsage: {info.usage}",
            short_help=info.description,
            context_settings={"ignore_unknown_options": True},
        )
        cli.add_command(cmd)


def _add_plugin_commands() -> None:
    """Commands plugins add through the `register_commands` hook."""
    from modeldeck import plugins

    plugins.hook().register_commands(cli=cli)


@cli.command()
@click.option("--host", default=None, help="Interface for the server (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Server port (default 8765).")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the SQLite store, sandbox state and config live.",
)
@_INSECURE_OPEN_MODE
@_guard
def up(host: str | None, port: int | None, data_dir: Path | None, insecure_open_mode: bool) -> None:
    """Start the whole local stack: store, sandbox, server, reconciler, Slack if configured."""
    from modeldeck.up import run_up

    run_up(host=host, port=port, data_dir=data_dir, insecure_open_mode=insecure_open_mode)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8760, show_default=True)
@click.option(
    "--deploy-delay",
    type=float,
    default=None,
    help="Seconds from PENDING to RUNNING (real Model Studio: 300-600).",
)
@click.option(
    "--clock-speed", type=float, default=None, help="Run the sandbox clock this much faster."
)
@click.option("--db", type=click.Path(path_type=Path), default=None, help="Sandbox state file.")
@_guard
def sandbox(
    host: str, port: int, deploy_delay: float | None, clock_speed: float | None, db: Path | None
) -> None:
    """Run the Model Studio sandbox alone."""
    from modeldeck.sandbox import SandboxConfig
    from modeldeck.settings import load_settings

    settings = load_settings()
    overrides: dict[str, object] = {}
    if db is not None:
        overrides["db_path"] = db
    if deploy_delay is not None:
        overrides["deploy_delay_seconds"] = deploy_delay
    if clock_speed is not None:
        overrides["clock_speed"] = clock_speed
    config = SandboxConfig.from_settings(settings, **overrides)
    from modeldeck.up import serve_sandbox_alone

    serve_sandbox_alone(config, host, port)


@cli.command()
@click.option("--host", default=None, help="Interface (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8765).")
@_INSECURE_OPEN_MODE
@_guard
def server(host: str | None, port: int | None, insecure_open_mode: bool) -> None:
    """Run the modeldeck server alone (REST API, health, metrics, Slack if configured)."""
    from modeldeck.up import run_server_only

    run_server_only(host=host, port=port, insecure_open_mode=insecure_open_mode)


@cli.command(name="plugins")
@click.option("--json", "as_json", is_flag=True)
@_guard
def plugins_cmd(as_json: bool) -> None:
    """List loaded plugins: name, version and the hooks each implements."""
    from modeldeck.plugins import describe_plugins

    rows = describe_plugins()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = _table(title="modeldeck plugins")
    for col in ("name", "distribution", "version", "hooks"):
        table.add_column(col)
    for row in rows:
        table.add_row(row["name"], row["distribution"], row["version"], ", ".join(row["hooks"]))
    _console().print(table)


@cli.command()
@click.option("--watch", is_flag=True, help="Keep reconciling every --interval seconds.")
@click.option("--interval", type=float, default=5.0, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@_guard
def reconcile(watch: bool, interval: float, as_json: bool) -> None:
    """Sync the store with Model Studio: statuses, imports, drift, stuck executions, timelines."""
    from dataclasses import asdict

    from modeldeck.deck import Deck
    from modeldeck.reconciler import Reconciler
    from modeldeck.settings import load_settings

    deck = Deck(load_settings())
    try:
        reconciler = Reconciler(deck)
        if watch:
            click.echo(f"Reconciling every {interval:g} s; Ctrl+C to stop.")
            reconciler.watch(interval)
            return
        report = reconciler.run_once()
    finally:
        deck.close()
    if as_json:
        click.echo(json.dumps(asdict(report), default=str, indent=2))
        return
    if not report.provider_reachable:
        raise ModeldeckError("Model Studio could not be reached; nothing was synced.")
    click.echo(
        f"{len(report.status_changes)} status change(s), {len(report.imported)} imported, "
        f"{len(report.drift)} drift(s), {len(report.recovered)} recovered, "
        f"{len(report.timeline)} timeline event(s), {len(report.alerts)} alert(s) raised."
    )
    for dep_id, old, new in report.status_changes:
        click.echo(f"  {dep_id}: {old or '(new)'} -> {new}")
    for dep_id in report.imported:
        click.echo(f"  imported {dep_id} (created outside modeldeck)")
    for schedule_id, what in report.schedules:  # scheduled capacity (docs/schedules.md)
        click.echo(f"  schedule {schedule_id}: change {what}")


@cli.group()
def requests() -> None:
    """Requests that need an admin's hand (e.g. one stuck executing)."""


@requests.command(name="resolve")
@click.argument("request_id")
@click.option("--reason", default=None, help="Why (kept in the audit log and on the request).")
@_guard
def requests_resolve(request_id: str, reason: str | None) -> None:
    """End a stuck (approved or executing) request as failed (admins only)."""
    from modeldeck.identity.credentials import cli_actor
    from modeldeck.settings import load_settings

    deck = _open_deck()
    try:
        record = deck.resolve_request(request_id, cli_actor(deck, load_settings()), reason)
    finally:
        deck.close()
    click.echo(f"{record.id} is now {record.status.value}: {record.error}")


@cli.group()
def token() -> None:
    """Personal API tokens for the server's REST API (stored hashed; shown once)."""


def _remote_admin() -> Any:
    """The configured server's RemoteDeck, or None when no server is configured (local store).

    With a server configured, `token` and `audit` must read the team's store through it, never
    the (empty) SQLite of this laptop.
    """
    from modeldeck.settings import load_settings

    settings = load_settings()
    if not settings.server.url:
        return None
    from modeldeck.identity.credentials import presented_token
    from modeldeck.server.client import RemoteDeck

    return RemoteDeck(settings.server.url, presented_token(settings))


@token.command(name="create")
@click.argument("principal")
@click.option(
    "--bootstrap",
    is_flag=True,
    help="Create the first admin's token with local access to the store (only while no admin "
    "holds one).",
)
@_guard
def token_create(principal: str, bootstrap: bool) -> None:
    """Create a token for PRINCIPAL and print it once (needs an admin's token, or --bootstrap)."""
    from modeldeck.identity.credentials import token_creator
    from modeldeck.settings import load_settings
    from modeldeck.store import Store
    from modeldeck.tokens import create_token

    remote = _remote_admin()
    if remote is not None:
        with contextlib.closing(remote):
            grant = remote.create_token(principal)
        token_id, secret = grant.id, grant.token.get_secret_value()
    else:
        settings = load_settings()
        if settings.principals and principal not in {p.name for p in settings.principals}:
            raise UserError(
                f"{principal!r} is not a configured principal.",
                hint="Add it to [[principals]] in modeldeck.toml first.",
            )
        store = Store(settings.effective_database_url)
        by = token_creator(store, settings, principal, bootstrap)
        token_id, secret = create_token(store, principal, by=by)
    click.echo(f"Token {token_id} for {principal} (shown once, keep it secret):")
    click.echo(secret)


@token.command(name="list")
@_guard
def token_list() -> None:
    """List tokens (ids, owners, dates; never the tokens)."""
    from modeldeck.settings import load_settings
    from modeldeck.store import Store
    from modeldeck.tokens import list_tokens

    remote = _remote_admin()
    if remote is not None:
        with contextlib.closing(remote):
            rows = remote.list_tokens()
    else:
        from modeldeck.identity.credentials import local_admin

        settings = load_settings()
        store = Store(settings.effective_database_url)
        rows = list_tokens(store, by=local_admin(store, settings))
    table = _table()
    for col in ("id", "principal", "created_at", "revoked_at"):
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in ("id", "principal", "created_at", "revoked_at")))
    _console().print(table)


@token.command(name="revoke")
@click.argument("token_id")
@_guard
def token_revoke(token_id: str) -> None:
    """Revoke a token by its id."""
    from modeldeck.settings import load_settings
    from modeldeck.store import Store
    from modeldeck.tokens import revoke_token

    remote = _remote_admin()
    if remote is not None:
        with contextlib.closing(remote):
            remote.revoke_token(token_id)
    else:
        from modeldeck.identity.credentials import local_admin

        settings = load_settings()
        store = Store(settings.effective_database_url)
        revoke_token(store, token_id, by=local_admin(store, settings))
    click.echo(f"Token {token_id} revoked.")


@cli.command()
@click.option("--jsonl", is_flag=True, help="Export as JSON lines (one record per line).")
@click.option("--limit", type=int, default=50, show_default=True, help="Newest N (0 = all).")
@click.option("--subject", default=None, help="Only records about this request/deployment.")
@_guard
def audit(jsonl: bool, limit: int, subject: str | None) -> None:
    """Show or export the append-only audit log (the server's, when one is configured)."""
    from modeldeck.audit import read_audit
    from modeldeck.settings import load_settings
    from modeldeck.store import Store

    remote = _remote_admin()
    if remote is not None:
        with contextlib.closing(remote):
            records = remote.audit(limit, subject)
    else:
        records = read_audit(
            Store(load_settings().effective_database_url), limit=limit, subject=subject
        )
    if jsonl:
        for record in records:
            click.echo(json.dumps(record, default=str))
        return
    table = _table(title="audit log (Beijing time)")
    for col in ("at", "actor", "surface", "action", "subject", "estimate", "detail"):
        table.add_column(col)
    for r in records:
        table.add_row(
            r["at_beijing"],
            r["actor"],
            r["surface"],
            r["action"],
            r["subject"] or "",
            r["cost_estimate"] or "",
            json.dumps(r["detail"], default=str)[:60],
        )
    _console().print(table)


def build_cli() -> click.Group:
    """The root command with the grammar's verbs and plugins' commands added (again: a verb or
    command registered since replaces the one of the same name)."""
    _add_grammar_commands()
    _add_spend_commands()
    _add_plugin_commands()
    return cli


def _add_spend_commands() -> None:
    """`chart spend|usage|plan` and `alerts [--watch]` (replacing the plain `alerts` verb)."""
    from modeldeck import cli_spend

    for sub in cli_spend.chart.commands.values():
        _guarded(sub)
    cli.add_command(cli_spend.chart)
    cli.add_command(_guarded(cli_spend.alerts))


def _guarded(command: click.Command) -> click.Command:
    if command.callback is not None and not getattr(command.callback, "_guarded", False):
        command.callback = _guard(command.callback)
        command.callback._guarded = True  # type: ignore[attr-defined]
    return command


def main() -> None:
    """Console-script entry point."""
    try:
        build_cli()
    except BaseException as exc:
        _fail(exc)
    cli()
