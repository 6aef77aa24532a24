"""Shared names for the Slack tests: the fake workspace's people, secrets and a person driver."""

from __future__ import annotations

from typing import Any

import httpx

from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_wire import (
    SlackSender,
    interaction_body,
    view_action_payload,
    view_submission_payload,
)

BOT_TOKEN = "xoxb-test-4242-bot-token-never-shown"
SIGNING_SECRET = "test-signing-secret-never-shown-8e1f"
CHANNEL = "C0DECK"
ALICE = "U0ALICE"
BOB = "U0BOB"
CAROL = "U0CAROL"
DAVE = "U0DAVE"
STRANGER = "U0STRANGER"
USERS = {ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave", STRANGER: "stranger"}
PTU_MODEL = "qwen3-max-2025-09-23"
MU_MODEL = "qwen3-32b"


def slack_settings(fake: FakeSlack, **more: Any) -> dict[str, Any]:
    return {
        "bot_token": BOT_TOKEN,
        "signing_secret": SIGNING_SECRET,
        "api_url": fake.api_url,
        **more,
    }


class SlackUser:
    """One person in the fake workspace typing /deck and clicking buttons."""

    def __init__(self, user: str, sender: SlackSender, fake: FakeSlack) -> None:
        self.user = user
        self.sender = sender
        self.fake = fake

    def command(self, text: str, channel: str = CHANNEL) -> tuple[httpx.Response, str]:
        """Send `/deck text`; return the HTTP answer and the response_url handed to the bot."""
        url = self.fake.response_url()
        resp = self.sender.command(
            text,
            user=self.user,
            channel=channel,
            response_url=url,
            trigger_id=self.fake.trigger_id(),
        )
        return resp, url

    def answer(self, text: str, channel: str = CHANNEL) -> str:
        """The text the person sees: the ack body, or what came through response_url."""
        resp, url = self.command(text, channel)
        assert resp.status_code == 200, resp.text
        body = resp.json() if resp.content else {}
        interim = str(body.get("text") or "").startswith(("Working on it", "Requesting"))
        if body.get("text") and not interim:
            assert body.get("response_type") == "ephemeral"
            return _all_text(body)
        post = self.fake.wait_for_response(url)
        assert post.body.get("response_type") == "ephemeral"
        return _all_text(post.body)

    def click(self, action_id: str, request_id: str, channel: str, ts: str) -> httpx.Response:
        message = self.fake.message(channel, ts)
        return self.sender.click(
            action_id=action_id,
            value=request_id,
            user=self.user,
            channel=channel,
            message_ts=ts,
            response_url=self.fake.response_url(),
            trigger_id=self.fake.trigger_id(),
            message={"type": "message", "ts": ts, "text": message.text, "blocks": message.blocks},
        )

    def submit(self, view: dict[str, Any], values: dict[str, Any]) -> httpx.Response:
        """Press the modal's submit button with these input values."""
        payload = view_submission_payload(user=self.user, view=view, values=values)
        return self.sender.post(interaction_body(payload))

    def change(
        self, view: dict[str, Any], action: dict[str, Any], values: dict[str, Any]
    ) -> httpx.Response:
        """Change an input inside an open modal (a dispatched block_actions)."""
        payload = view_action_payload(user=self.user, view=view, action=action, values=values)
        return self.sender.post(interaction_body(payload))


def _all_text(body: dict[str, Any]) -> str:
    parts = [str(body.get("text") or "")]
    for block in body.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(str(text.get("text", "")))
        for field in block.get("fields") or []:
            parts.append(str(field.get("text", "")))
    return "\n".join(parts)
