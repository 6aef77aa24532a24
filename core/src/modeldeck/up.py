"""`modeldeck up` and `modeldeck server`: serve the stack in one process, say where it listens."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from modeldeck import plugins
from modeldeck.deck import Deck
from modeldeck.errors import ConfigError
from modeldeck.server.exposure import check_bind
from modeldeck.serving import PortTaken, bind, bound_port, make_server, serve_bound
from modeldeck.settings import Settings, load_settings

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5.0


def _settings(
    host: str | None, port: int | None, data_dir: Path | None, insecure_open_mode: bool = False
) -> Settings:
    if data_dir is not None:
        os.environ["MODELDECK_DATA_DIR"] = str(data_dir)
    settings = load_settings()
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    if insecure_open_mode:
        settings.server.insecure_open_mode = True
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def _store_label(settings: Settings) -> str:
    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


def _plugin_tasks(deck: Deck, settings: Settings) -> list[Any]:
    results = plugins.hook().startup(deck=deck, settings=settings)
    return [task for result in results if result for task in result]


def _check_exposure(settings: Settings) -> None:
    """Open mode off loopback is refused, or warned about on every start when allowed."""
    warning = check_bind(settings, settings.server.host)
    if warning:
        click.echo(warning, err=True)
        log.warning(warning)


def _bind_server(settings: Settings) -> socket.socket:
    host, port = settings.server.host, settings.server.port
    try:
        return bind(host, port)
    except PortTaken as exc:
        raise ConfigError(
            f"The modeldeck server cannot listen on {host}:{port}: the port {exc.reason}.",
            hint="Move it with --port (or MODELDECK_SERVER__PORT / [server] port), "
            "or stop what holds it.",
        ) from None


def _bind_sandbox(settings: Settings) -> socket.socket:
    """The sandbox's socket: its configured port, or a free one when the default is taken."""
    host, port = settings.sandbox.host, settings.sandbox.port
    try:
        sock = bind(host, port)
    except PortTaken as exc:
        if "port" in settings.sandbox.model_fields_set:  # chosen on purpose: say so
            raise ConfigError(
                f"The sandbox cannot listen on {host}:{port}: the port {exc.reason}.",
                hint="Move it with MODELDECK_SANDBOX__PORT (or [sandbox] port), "
                "or stop what holds it.",
            ) from None
        sock = bind(host, 0)  # the default is taken (another stack?): any free port
        click.echo(
            f"The sandbox's default port {port} is taken; using {bound_port(sock)} "
            f"(other processes reach it with MODELDECK_SANDBOX__PORT={bound_port(sock)}).",
            err=True,
        )
    settings.sandbox.port = bound_port(sock)
    return sock


def run_up(
    *,
    host: str | None = None,
    port: int | None = None,
    data_dir: Path | None = None,
    insecure_open_mode: bool = False,
) -> None:
    """Sandbox (unless a real endpoint is configured), store, server and refresher, one process.

    Every socket is bound before anything starts, and "modeldeck is up" is printed only once
    every server accepts connections; a taken port is one ConfigError naming the setting.
    """
    from modeldeck.sandbox import SandboxConfig
    from modeldeck.sandbox import create_app as sandbox_app
    from modeldeck.server import create_app

    settings = _settings(host, port, data_dir, insecure_open_mode)
    _check_exposure(settings)
    sockets = [_bind_server(settings)]
    bound: list[tuple[Any, socket.socket]] = []
    deck: Deck | None = None
    try:
        if settings.uses_sandbox:
            sockets.append(_bind_sandbox(settings))
            config = SandboxConfig.from_settings(settings)
            sandbox = make_server(sandbox_app(config), settings.sandbox.host, settings.sandbox.port)
            bound.append((sandbox, sockets[-1]))
        deck = Deck(settings)
        app = create_app(deck, settings, reconcile_interval=REFRESH_SECONDS)
        bound.append((make_server(app, settings.server.host, settings.server.port), sockets[0]))
        ready = functools.partial(_say_up, settings)
        asyncio.run(serve_bound(bound, _plugin_tasks(deck, settings), on_ready=ready))
    except KeyboardInterrupt:
        pass
    finally:
        for sock in sockets:
            sock.close()
        if deck is not None:
            deck.close()


def slack_banner(settings: Settings, where: str) -> str:
    """How Slack reaches this server: the HTTP Request URL, Socket Mode, both, or off."""
    slack = settings.slack
    if not slack.enabled:
        return "off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to enable)"
    modes = []
    if slack.app_token is not None:
        modes.append("Socket Mode (no public URL needed; state at /healthz)")
    if slack.signing_secret is not None:
        modes.append(f"Request URL {where}/slack/events")
    if slack.oauth and slack.signing_secret is not None:
        modes.append(f"OAuth install at {where}/slack/install")
    return " and ".join(modes)


def _say_up(settings: Settings) -> None:
    where = f"http://{settings.server.host}:{settings.server.port}"
    click.echo("modeldeck is up:")
    click.echo(f"  store:     {_store_label(settings)}")
    if settings.uses_sandbox:
        click.echo(
            f"  sandbox:   http://{settings.sandbox.host}:{settings.sandbox.port}/api/v1 "
            "(Model Studio emulator)"
        )
    else:
        click.echo(f"  provider:  {settings.provider.base_url}")
    click.echo(f"  server:    {where}  (API docs {where}/docs, health {where}/healthz)")
    click.echo(f"  slack:     {slack_banner(settings, where)}")
    click.echo(f"  refresher: every {REFRESH_SECONDS:g} s")
    click.echo("Press Ctrl+C to stop.")


def run_server_only(
    *, host: str | None = None, port: int | None = None, insecure_open_mode: bool = False
) -> None:
    """The server without the sandbox (team mode: several replicas share one PostgreSQL)."""
    from modeldeck.server import create_app

    settings = _settings(host, port, None, insecure_open_mode)
    _check_exposure(settings)
    sock = _bind_server(settings)
    deck: Deck | None = None
    try:
        deck = Deck(settings)
        app = create_app(deck, settings, reconcile_interval=REFRESH_SECONDS)
        server = make_server(app, settings.server.host, settings.server.port)
        where = f"http://{settings.server.host}:{settings.server.port}"

        def ready() -> None:
            click.echo(f"modeldeck server on {where} (store {_store_label(settings)})")

        asyncio.run(serve_bound([(server, sock)], _plugin_tasks(deck, settings), on_ready=ready))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        if deck is not None:
            deck.close()


def serve_sandbox_alone(config: Any, host: str, port: int) -> None:
    """`modeldeck sandbox`: bound first (a taken port is one line), then served until Ctrl+C."""
    from modeldeck.sandbox import create_app as sandbox_app

    try:
        sock = bind(host, port)
    except PortTaken as exc:
        raise ConfigError(
            f"The sandbox cannot listen on {host}:{port}: the port {exc.reason}.",
            hint="Move it with --port, or stop what holds it.",
        ) from None
    server = make_server(sandbox_app(config), host, port, log_level="info")

    def ready() -> None:
        click.echo(f"Model Studio sandbox listening on http://{host}:{port}/api/v1")

    try:
        asyncio.run(serve_bound([(server, sock)], on_ready=ready))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
