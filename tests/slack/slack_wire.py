"""What Slack sends to an app, byte for byte: signed slash commands, interactions and events.

`SlackSender` posts them to a running server the way Slack does: form-encoded bodies (or JSON for
the Events API), `X-Slack-Request-Timestamp` and `X-Slack-Signature: v0=HMAC_SHA256(secret,
"v0:{ts}:{raw body}")`. Reusable by any suite that drives the bot over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

_seq = itertools.count(1)


def signature(secret: str, timestamp: int | str, body: str) -> str:
    """Slack's v0 request signature."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: str, *, timestamp: int | None = None, content_type: str
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(secret, ts, body),
    }


def slash_command_body(
    text: str,
    *,
    user: str,
    channel: str,
    response_url: str,
    trigger_id: str,
    team_id: str = "T0MODELDECK",
    command: str = "/deck",
) -> str:
    """A slash command exactly as Slack form-encodes it."""
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": "modeldeck-fake",
            "channel_id": channel,
            "channel_name": "deck",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0MODELDECK",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def block_actions_payload(
    *,
    action_id: str,
    value: str,
    user: str,
    channel: str,
    message_ts: str,
    response_url: str,
    trigger_id: str,
    message: dict[str, Any] | None = None,
    block_id: str = "modeldeck_request_actions",
    team_id: str = "T0MODELDECK",
    is_ephemeral: bool = False,
) -> dict[str, Any]:
    """A `block_actions` interaction payload for a button click."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
        "api_app_id": "A0MODELDECK",
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": "modeldeck-fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "deck"},
        "message": message or {"type": "message", "ts": message_ts, "text": ""},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": "Approve", "emoji": True},
                "value": value,
                "style": "primary",
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def interaction_body(payload: dict[str, Any]) -> str:
    """Interactions arrive as `payload=<json>`, form-encoded."""
    return urlencode({"payload": json.dumps(payload)})


def event_callback_body(event: dict[str, Any], *, team_id: str = "T0MODELDECK") -> str:
    """An Events API delivery (JSON)."""
    n = next(_seq)
    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "api_app_id": "A0MODELDECK",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{n:08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": team_id, "user_id": "U0BOT", "is_bot": True, "enterprise_id": None}
            ],
        }
    )


class SlackSender:
    """Posts signed requests to `<server>/slack/events` as Slack would."""

    def __init__(self, server_url: str, signing_secret: str, path: str = "/slack/events") -> None:
        self.url = server_url.rstrip("/") + path
        self.secret = signing_secret
        self.http = httpx.Client(timeout=30)

    def close(self) -> None:
        self.http.close()

    def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = signed_headers(
            secret or self.secret, body, timestamp=timestamp, content_type=content_type
        )
        sent.update(headers or {})
        resp = self.http.post(self.url, content=body.encode(), headers=sent)
        if resp.status_code == 200 and "json" in resp.headers.get("content-type", ""):
            from tests.slack.limits_check import assert_answer_within_limits

            assert_answer_within_limits(resp.json())  # the one limits check, on every answer
        return resp

    def command(self, text: str, **kw: Any) -> httpx.Response:
        return self.post(slash_command_body(text, **kw))

    def click(self, **kw: Any) -> httpx.Response:
        return self.post(interaction_body(block_actions_payload(**kw)))

    def event(self, event: dict[str, Any]) -> httpx.Response:
        return self.post(event_callback_body(event), content_type="application/json")


def view_submission_payload(
    *, user: str, view: dict[str, Any], values: dict[str, dict[str, dict[str, Any]]]
) -> dict[str, Any]:
    """A `view_submission` interaction: the modal as Slack holds it, with the typed values."""
    return {
        "type": "view_submission",
        "team": {"id": "T0MODELDECK", "domain": "modeldeck-fake"},
        "user": {"id": user, "username": user.lower(), "name": user.lower()},
        "api_app_id": "A0MODELDECK",
        "token": "deprecated-verification-token",
        "trigger_id": f"{time.time():.0f}.view.fake",
        "view": {**view, "state": {"values": values}},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_action_payload(
    *,
    user: str,
    view: dict[str, Any],
    action: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
) -> dict[str, Any]:
    """A `block_actions` interaction from inside a modal (a select changed)."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower()},
        "api_app_id": "A0MODELDECK",
        "token": "deprecated-verification-token",
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": f"{time.time():.0f}.action.fake",
        "team": {"id": "T0MODELDECK", "domain": "modeldeck-fake"},
        "view": {**view, "state": {"values": values}},
        "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        "is_enterprise_install": False,
        "enterprise": None,
    }
