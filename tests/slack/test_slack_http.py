"""Slack's request signing over real HTTP: only correctly signed, fresh requests get through."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from modeldeck.testing import Stack
from modeldeck_slack import plugin
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import ALICE, CHANNEL, SIGNING_SECRET
from tests.slack.slack_wire import SlackSender, signed_headers, slash_command_body


def _help_body(fake: FakeSlack) -> str:
    return slash_command_body(
        "help",
        user=ALICE,
        channel=CHANNEL,
        response_url=fake.response_url(),
        trigger_id=fake.trigger_id(),
    )


def test_signed_command_is_answered(sender: SlackSender, fake_slack: FakeSlack) -> None:
    resp = sender.post(_help_body(fake_slack))
    assert resp.status_code == 200
    body = resp.json()
    assert body["response_type"] == "ephemeral"
    assert "estimate" in body["text"] and "deploy" in body["text"]


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_stale_or_future_timestamp_is_refused(
    sender: SlackSender, fake_slack: FakeSlack, skew: int
) -> None:
    resp = sender.post(_help_body(fake_slack), timestamp=int(time.time()) + skew)
    assert resp.status_code == 401


def test_wrong_secret_tampered_body_and_missing_headers(
    sender: SlackSender, fake_slack: FakeSlack
) -> None:
    body = _help_body(fake_slack)
    assert sender.post(body, secret="not-the-secret").status_code == 401
    headers = signed_headers(SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded")
    tampered = body.replace("text=help", "text=list")
    assert tampered != body
    assert httpx.post(sender.url, content=tampered, headers=headers).status_code == 401
    bare = httpx.post(
        sender.url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert bare.status_code == 401
    # a correctly signed request still works afterwards, and nothing refused reached Slack
    assert sender.post(_help_body(fake_slack)).status_code == 200
    assert fake_slack.responses() == []
    assert fake_slack.calls("chat.postMessage") == []


def test_slack_off_mounts_nothing_and_says_so_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(plugin, "_off_logged", False)
    caplog.set_level(logging.INFO, logger="modeldeck_slack")
    with Stack() as stack:
        assert stack.settings is not None and not stack.settings.slack.enabled
        resp = httpx.post(stack.server_url + "/slack/events", content=b"x")
        assert resp.status_code == 404
        assert plugin.startup(deck=stack.deck, settings=stack.settings) is None
    lines = [r.getMessage() for r in caplog.records if r.name == "modeldeck_slack"]
    assert len(lines) == 1, lines
    assert "Slack is off" in lines[0]
    assert "SLACK_BOT_TOKEN" in lines[0] and "SLACK_SIGNING_SECRET" in lines[0]


def test_url_verification_challenge(sender: SlackSender) -> None:
    body = json.dumps({"token": "x", "challenge": "c-123", "type": "url_verification"})
    resp = sender.post(body, content_type="application/json")
    assert resp.status_code == 200 and resp.json() == {"challenge": "c-123"}
    assert sender.post(body, content_type="application/json", secret="wrong").status_code == 401
