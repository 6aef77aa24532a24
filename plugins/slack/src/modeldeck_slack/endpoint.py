"""The HTTP endpoint Slack calls: one `POST /events` for slash commands, interactions and events.

Mounted by the server under `/slack`, so Slack's Request URL is `<server>/slack/events`. Bolt
checks the `X-Slack-Signature` HMAC and refuses timestamps more than 5 minutes off with 401.
"""

from __future__ import annotations

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MOUNT_PATH = "/slack"
EVENTS_PATH = "/events"


def slack_asgi_app(app: AsyncApp) -> Starlette:
    """A Starlette app serving `POST /events` through Bolt's async Starlette adapter."""
    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route(EVENTS_PATH, events, methods=["POST"])])
