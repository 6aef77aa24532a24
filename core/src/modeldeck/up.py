"""`modeldeck up` and `modeldeck server`: serve the stack in one process, say where it listens."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from modeldeck import plugins
from modeldeck.deck import Deck
from modeldeck.serving import make_server, serve_together
from modeldeck.settings import Settings, load_settings

log = logging.getLogger(__name__)
REFRESH_SECONDS = 5.0


def _settings(host: str | None, port: int | None, data_dir: Path | None) -> Settings:
    if data_dir is not None:
        os.environ["MODELDECK_DATA_DIR"] = str(data_dir)
    settings = load_settings()
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def _store_label(settings: Settings) -> str:
    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


def _plugin_tasks(deck: Deck, settings: Settings) -> list[Any]:
    results = plugins.hook().startup(deck=deck, settings=settings)
    return [task for result in results if result for task in result]


def run_up(
    *, host: str | None = None, port: int | None = None, data_dir: Path | None = None
) -> None:
    """Sandbox (unless a real endpoint is configured), store, server and refresher, one process."""
    from modeldeck.sandbox import SandboxConfig
    from modeldeck.sandbox import create_app as sandbox_app
    from modeldeck.server import create_app

    settings = _settings(host, port, data_dir)
    servers = []
    if settings.uses_sandbox:
        config = SandboxConfig.from_settings(settings)
        servers.append(
            make_server(sandbox_app(config), settings.sandbox.host, settings.sandbox.port)
        )
    deck = Deck(settings)
    app = create_app(deck, settings, reconcile_interval=REFRESH_SECONDS)
    servers.append(make_server(app, settings.server.host, settings.server.port))
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
    click.echo(
        f"  slack:     {where}/slack/events"
        if settings.slack.enabled
        else "  slack:     off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to enable)"
    )
    click.echo(f"  refresher: every {REFRESH_SECONDS:g} s")
    click.echo("Press Ctrl+C to stop.")
    try:
        asyncio.run(serve_together(servers, _plugin_tasks(deck, settings)))
    except KeyboardInterrupt:
        pass
    finally:
        deck.close()


def run_server_only(*, host: str | None = None, port: int | None = None) -> None:
    """The server without the sandbox (team mode: several replicas share one PostgreSQL)."""
    from modeldeck.server import create_app

    settings = _settings(host, port, None)
    deck = Deck(settings)
    app = create_app(deck, settings, reconcile_interval=REFRESH_SECONDS)
    server = make_server(app, settings.server.host, settings.server.port)
    click.echo(
        f"modeldeck server on http://{settings.server.host}:{settings.server.port} "
        f"(store {_store_label(settings)})"
    )
    try:
        asyncio.run(serve_together([server], _plugin_tasks(deck, settings)))
    except KeyboardInterrupt:
        pass
    finally:
        deck.close()
