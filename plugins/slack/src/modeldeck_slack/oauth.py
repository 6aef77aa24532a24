"""OAuth install to several workspaces: with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set,
`GET /slack/install` starts Slack's OAuth v2 flow and `GET /slack/oauth_redirect` finishes it.

Installations (a bot token per workspace) and the flow's one-time states are kept by slack-sdk's
SQLAlchemy stores (`slack_installations`, `slack_bots`, `slack_oauth_states`) on the SAME
database as modeldeck's store, so every replica authorizes every workspace. Bolt picks the
token of the workspace a request comes from; hooks (cards, alerts, App Home refreshes, the
digest) post with SLACK_BOT_TOKEN when set, else with the `notify_team` installation (default:
the latest). Tokens never reach a log: each token found is registered with modeldeck's log
masking, and every log record is scrubbed of anything shaped like a Slack token (slack_sdk's
debug log prints the oauth.v2.access answer before anyone could register the token in it).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import weakref
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import desc, select

from modeldeck import masking
from modeldeck.settings import Settings

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_EXPIRY_SECONDS = 600
# Slack token shapes: bot/user/app/config/refresh tokens (xoxb-, xoxp-, xapp-, xoxe-, xoxe.xoxp-).
TOKEN_PATTERN = re.compile(r"\b(?:xox[abposre](?:\.xox[a-z])?|xapp)-[0-9A-Za-z][0-9A-Za-z\-]*")

_lock = threading.Lock()
_stores: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_redaction_installed = False


def redact(text: str) -> str:
    """`text` without anything shaped like a Slack token."""
    return TOKEN_PATTERN.sub(masking.MASK, text)


def install_token_redaction() -> None:
    """Wrap the log-record factory once: every record is scrubbed of Slack-token shapes."""
    global _redaction_installed
    with _lock:
        if _redaction_installed:
            return
        _redaction_installed = True
        previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:
            return record
        if TOKEN_PATTERN.search(message):
            record.msg, record.args = redact(message), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return record

    logging.setLogRecordFactory(factory)


def _engine(deck: Any) -> Any:
    store = getattr(deck, "store", None)
    if store is None:
        raise RuntimeError("Slack OAuth needs the modeldeck store (run it in the server)")
    return store.engine


def installation_store(deck: Any, settings: Settings) -> Any:
    """slack-sdk's SQLAlchemy installation store on the deck's database (tables made once)."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    assert settings.slack.client_id is not None
    engine = _engine(deck)
    with _lock:
        mine = _stores.setdefault(engine, {})
        found = mine.get("installations")
        if found is None or found.client_id != settings.slack.client_id:
            found = SQLAlchemyInstallationStore(client_id=settings.slack.client_id, engine=engine)
            _create_tables(found)
            mine["installations"] = found
    return found


def state_store(deck: Any) -> Any:
    """slack-sdk's SQLAlchemy OAuth state store on the deck's database (10-minute states)."""
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    engine = _engine(deck)
    with _lock:
        mine = _stores.setdefault(engine, {})
        found = mine.get("states")
        if found is None:
            found = SQLAlchemyOAuthStateStore(
                expiration_seconds=STATE_EXPIRY_SECONDS, engine=engine
            )
            _create_tables(found)
            mine["states"] = found
    return found


def _create_tables(store: Any) -> None:
    """CREATE TABLE if missing; a replica that created them first is not an error."""
    try:
        store.create_tables()
    except Exception as exc:  # a concurrent create on PostgreSQL: the tables exist now
        log.info("Slack OAuth tables: %s (created by another process)", type(exc).__name__)
        store.create_tables()


class AsyncInstallations(AsyncInstallationStore):
    """The sync SQLAlchemy installation store for Bolt's AsyncApp (each call in a thread)."""

    def __init__(self, sync: Any) -> None:
        self.sync = sync

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Any) -> None:
        for token in (installation.bot_token, installation.user_token):
            if token:
                masking.register(token)
        await asyncio.to_thread(self.sync.save, installation)

    async def async_save_bot(self, bot: Any) -> None:
        await asyncio.to_thread(self.sync.save_bot, bot)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Any:
        bot = await asyncio.to_thread(
            lambda: self.sync.find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
        )
        if bot is not None and bot.bot_token:
            masking.register(bot.bot_token)
        return bot

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Any:
        found = await asyncio.to_thread(
            lambda: self.sync.find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )
        )
        if found is not None:
            for token in (found.bot_token, found.user_token):
                if token:
                    masking.register(token)
        return found

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(
            lambda: self.sync.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            lambda: self.sync.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)


class AsyncStates(AsyncOAuthStateStore):
    """The sync SQLAlchemy OAuth state store for Bolt's AsyncApp."""

    def __init__(self, sync: Any) -> None:
        self.sync = sync

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state: str = await asyncio.to_thread(self.sync.issue)
        return state

    async def async_consume(self, state: str) -> bool:
        return bool(await asyncio.to_thread(self.sync.consume, state))


def oauth_flow(deck: Any, settings: Settings, base_url: str) -> Any:
    """Bolt's AsyncOAuthFlow: install and redirect paths under /slack, stores on our database."""
    from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
    from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
    from slack_sdk.web.async_client import AsyncWebClient

    slack = settings.slack
    assert slack.client_id is not None and slack.client_secret is not None
    install_token_redaction()
    redirect = f"{settings.server.url.rstrip('/')}{REDIRECT_PATH}" if settings.server.url else None
    oauth_settings = AsyncOAuthSettings(
        client_id=slack.client_id,
        client_secret=slack.client_secret.get_secret_value(),
        scopes=slack.oauth_scopes,
        redirect_uri=redirect,
        install_path=INSTALL_PATH,
        install_page_rendering_enabled=False,  # straight to Slack's consent screen
        redirect_uri_path=REDIRECT_PATH,
        installation_store=AsyncInstallations(installation_store(deck, settings)),
        state_store=AsyncStates(state_store(deck)),
    )
    return AsyncOAuthFlow(client=AsyncWebClient(base_url=base_url), settings=oauth_settings)


def app_options(deck: Any, settings: Settings, client: Any | None) -> dict[str, Any]:
    """What the bot's AsyncApp is built with: a bot-token client, or the OAuth flow (with a
    token-less client for the API URL; Bolt gives each request its workspace's token)."""
    from slack_sdk.web.async_client import AsyncWebClient

    from modeldeck_slack.clients import api_base_url, async_client

    slack = settings.slack
    if client is not None or not slack.oauth:
        return {"client": client or async_client(slack)}
    base_url = api_base_url(slack)
    flow = oauth_flow(deck, settings, base_url)
    return {
        "client": AsyncWebClient(base_url=base_url, timeout=15),
        "oauth_flow": flow,
        "installation_store": flow.settings.installation_store,
    }


def installed_bot_token(
    settings: Settings, deck: Any | None = None, *, team: str | None = None
) -> str | None:
    """The bot token hooks post with under OAuth: `team`'s installation (an alert route's
    workspace), else `notify_team`'s, else the latest one (None before any install)."""
    if not settings.slack.oauth or deck is None or getattr(deck, "store", None) is None:
        return None
    store = installation_store(deck, settings)
    c = store.bots.c
    query = select(c.bot_token).where(c.client_id == store.client_id, c.bot_token.is_not(None))
    team = team or settings.slack.notify_team
    if team:
        query = query.where(c.team_id == team)
    query = query.order_by(desc(c.installed_at)).limit(1)
    with store.engine.connect() as conn:
        token = conn.execute(query).scalar()
    if token:
        masking.register(str(token))
        return str(token)
    log.info("no Slack workspace has installed modeldeck yet: hooks post nothing")
    return None


_notifiers_lock = threading.Lock()
_oauth_notifiers: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def oauth_notifier(deck: Any) -> Any | None:
    """The card notifier under OAuth without SLACK_BOT_TOKEN (the installed workspace's token)."""
    from modeldeck_slack.cards import CardNotifier
    from modeldeck_slack.clients import notify_client

    settings = deck.settings
    with _notifiers_lock:
        found = _oauth_notifiers.get(deck)
        if found is None or found.settings is not settings:
            client = notify_client(settings, deck)
            if client is None:
                return None
            found = CardNotifier(settings, client)
            _oauth_notifiers[deck] = found
        return found
