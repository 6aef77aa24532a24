"""The HTTP endpoint Slack calls: one `POST /events` for slash commands, interactions and events.

Mounted by the server under `/slack`, so Slack's Request URL is `<server>/slack/events`. Bolt
checks the `X-Slack-Signature` HMAC and refuses timestamps more than 5 minutes off with 401.
A timestamp that is not a number is refused here first (Bolt would raise on it: a 500).
"""

from __future__ import annotations

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MOUNT_PATH = "/slack"
EVENTS_PATH = "/events"
INSTALL_PATH = "/install"  # Bolt sees the whole path: oauth.INSTALL_PATH
REDIRECT_PATH = "/oauth_redirect"


def slack_asgi_app(app: AsyncApp) -> Starlette:
    """A Starlette app serving `POST /events` through Bolt's async Starlette adapter."""
    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        timestamp = request.headers.get("x-slack-request-timestamp")
        if timestamp is not None and not (timestamp.isascii() and timestamp.strip().isdigit()):
            return unsigned("X-Slack-Request-Timestamp is not a number of seconds.")
        return await handler.handle(request)

    async def oauth(request: Request) -> Response:
        """`GET /slack/install` and `/slack/oauth_redirect` (only with an OAuth client set)."""
        if app.oauth_flow is None:
            return JSONResponse({"error": "Slack OAuth install is not configured."}, 404)
        return await handler.handle(request)

    return Starlette(
        routes=[
            Route(EVENTS_PATH, events, methods=["POST"]),
            Route(INSTALL_PATH, oauth, methods=["GET"]),
            Route(REDIRECT_PATH, oauth, methods=["GET"]),
        ]
    )


def unsigned(why: str) -> JSONResponse:
    """401 for a request that cannot be Slack's: the same answer Bolt gives a bad signature."""
    body = {"error": {"type": "Unauthenticated", "message": f"Unsigned Slack request: {why}"}}
    return JSONResponse(body, status_code=401)
