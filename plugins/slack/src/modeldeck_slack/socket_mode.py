"""Socket Mode: the same Bolt app over a websocket Slack opens, for hosts Slack cannot reach.

Before connecting, both tokens are tried (`auth.test` with the bot token,
`apps.connections.open` with the app token): a refused token is one clear ERROR line, `/healthz`
reports Slack down, and the next try waits longer (doubling up to `MAX_BACKOFF_SECONDS`),
instead of slack_sdk's restart loop with a traceback every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from modeldeck import health
from modeldeck.settings import Settings
from modeldeck_slack.bot import SlackBot
from modeldeck_slack.cards import slack_error

log = logging.getLogger(__name__)

HEALTH_NAME = "slack"
FIRST_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 300.0
REFUSED = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "not_allowed_token_type",
}


def socket_mode_handler(bot: SlackBot, settings: Settings) -> AsyncSocketModeHandler:
    """A handler bound to the bot's app and web client (so `api_url` applies to it too)."""
    if settings.slack.app_token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    return AsyncSocketModeHandler(
        bot.app, app_token=settings.slack.app_token.get_secret_value(), web_client=bot.app.client
    )


async def token_problem(bot: SlackBot, settings: Settings) -> str | None:
    """Why Slack refuses to let this app connect (naming the variable to fix), or None."""
    assert settings.slack.app_token is not None
    try:
        await bot.app.client.auth_test()
    except SlackApiError as exc:
        code = slack_error(exc)
        if code in REFUSED:
            return f"Slack refuses SLACK_BOT_TOKEN ({code}): set a valid xoxb- bot token."
        return f"Slack answered auth.test with {code}."
    app_client = AsyncWebClient(base_url=bot.app.client.base_url, timeout=15)
    try:
        await app_client.apps_connections_open(
            app_token=settings.slack.app_token.get_secret_value()
        )
    except SlackApiError as exc:
        code = slack_error(exc)
        if code in REFUSED:
            return (
                f"Slack refuses SLACK_APP_TOKEN ({code}): set a valid xapp- app-level token "
                "with the connections:write scope."
            )
        return f"Slack would not open a Socket Mode connection ({code})."
    return None


async def run_socket_mode(bot: SlackBot, settings: Settings) -> None:
    """Connect and serve until cancelled; a refused token is reported once and retried later."""
    backoff = FIRST_BACKOFF_SECONDS
    last: str | None = None
    while True:
        try:
            problem = await token_problem(bot, settings)
        except (SlackClientError, OSError) as exc:
            problem = f"Slack is unreachable ({type(exc).__name__})."
        if problem is None:
            break
        health.set_status(HEALTH_NAME, False, problem)
        if problem != last:
            log.error("Slack Socket Mode is down: %s Retrying with backoff.", problem)
            last = problem
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
    if last is not None:
        log.info("Slack Socket Mode: the tokens are accepted now.")
    handler = socket_mode_handler(bot, settings)
    log.info("Slack Socket Mode: connecting (no public Request URL is used)")
    health.set_status(HEALTH_NAME, True, "Socket Mode connected")
    try:
        await handler.start_async()
    finally:
        health.clear(HEALTH_NAME)
        await handler.close_async()


def socket_mode_runner(bot: SlackBot, settings: Settings) -> Coroutine[Any, Any, None]:
    """The awaitable the `startup` hook returns, to run alongside the server."""
    return run_socket_mode(bot, settings)
