"""Socket Mode: the same Bolt app over a websocket Slack opens, for hosts Slack cannot reach."""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from modeldeck.settings import Settings
from modeldeck_slack.bot import SlackBot

log = logging.getLogger(__name__)


def socket_mode_handler(bot: SlackBot, settings: Settings) -> AsyncSocketModeHandler:
    """A handler bound to the bot's app and web client (so `api_url` applies to it too)."""
    if settings.slack.app_token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    return AsyncSocketModeHandler(
        bot.app, app_token=settings.slack.app_token.get_secret_value(), web_client=bot.app.client
    )


async def run_socket_mode(bot: SlackBot, settings: Settings) -> None:
    """Connect and serve until cancelled (the handler is built here, on the running loop)."""
    handler = socket_mode_handler(bot, settings)
    log.info("Slack Socket Mode: connecting")
    try:
        await handler.start_async()
    finally:
        await handler.close_async()


def socket_mode_runner(bot: SlackBot, settings: Settings) -> Coroutine[Any, Any, None]:
    """The awaitable the `startup` hook returns, to run alongside the server."""
    return run_socket_mode(bot, settings)
