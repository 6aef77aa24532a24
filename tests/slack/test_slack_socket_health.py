"""Socket Mode with a token Slack refuses: one clear log line, backoff, and /healthz says
Slack is down (a restart loop with a traceback every 10 s is what this replaces)."""

from __future__ import annotations

import logging

import httpx
import pytest

from modeldeck.testing import Stack
from modeldeck_slack import plugin, socket_mode
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import BOT_TOKEN
from tests.slack.test_slack_socket_mode import Runner


def test_a_refused_app_token_is_one_log_line_with_backoff_and_healthz_down(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket_mode, "FIRST_BACKOFF_SECONDS", 0.01)
    fake_slack.app_token = "xapp-the-real-one"
    slack = {"bot_token": BOT_TOKEN, "app_token": "xapp-revoked", "api_url": fake_slack.api_url}
    caplog.set_level(logging.INFO)
    with Stack(slack=slack) as stack:
        assert stack.settings is not None
        runners = plugin.startup(deck=stack.deck, settings=stack.settings)
        assert runners is not None
        runner = Runner(runners)
        runner.start()
        try:
            fake_slack.wait_for(
                lambda f: len(f.calls("apps.connections.open")) >= 3, what="three attempts"
            )
            health = httpx.get(f"{stack.server_url}/healthz").json()
        finally:
            runner.stop()
    assert health["checks"]["slack"]["ok"] is False
    assert "SLACK_APP_TOKEN" in health["checks"]["slack"]["detail"]
    refused = [r for r in caplog.records if "SLACK_APP_TOKEN" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.ERROR
    assert not any(r.exc_info for r in caplog.records if r.name.startswith(("modeldeck", "slack")))
    assert "xapp-revoked" not in caplog.text


def test_the_banner_says_socket_mode_not_an_http_endpoint(tmp_path: object) -> None:
    from modeldeck.settings import Settings
    from modeldeck.up import slack_banner

    socket_only = Settings(slack={"bot_token": BOT_TOKEN, "app_token": "xapp-x"})
    text = slack_banner(socket_only, "http://127.0.0.1:8765")
    assert "Socket Mode" in text and "/slack/events" not in text
    http = Settings(slack={"bot_token": BOT_TOKEN, "signing_secret": "s"})
    assert slack_banner(http, "http://h:1") == "Request URL http://h:1/slack/events"
