"""Across surfaces: a deploy asked in the notebook panel is approved by a signed Slack click.

The panel talks to a running modeldeck server over REST (team mode); the server posts the
request card to the fake Slack; Bob clicks Approve (a signed interaction to /slack/events); the
sandbox creates the deployment and it goes RUNNING; the panel's table then shows it RUNNING.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from modeldeck.testing import Stack
from modeldeck.tokens import create_token
from modeldeck_slack.blocks import APPROVE_ACTION
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import (
    BOB,
    BOT_TOKEN,
    CHANNEL,
    SIGNING_SECRET,
    USERS,
    SlackUser,
    slack_settings,
)
from tests.slack.slack_wire import SlackSender

pytestmark = pytest.mark.slow  # every test here takes seconds (see README)


def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_notebook_request_approved_in_slack_runs_and_shows_in_the_panel() -> None:
    from modeldeck_jupyter import Deck
    from modeldeck_jupyter.html import visible_text

    with (
        FakeSlack(bot_token=BOT_TOKEN, users=dict(USERS)) as fake,
        Stack(slack=slack_settings(fake, channel=CHANNEL), deploy_delay_seconds=0.5) as stack,
    ):
        assert stack.deck is not None  # the server acts as the token's principal
        token = create_token(stack.deck.store, "alice")[1]
        panel = Deck(server=stack.server_url, user="alice", token=token).wait()
        try:
            assert panel.deck is not None and type(panel.deck).__name__ == "RemoteDeck"
            panel.model.value = "qwen3-32b"
            panel.plan.value = "mu"
            panel.units.value = "1"
            panel.reason.value = "notebook to slack"
            assert "$40" in visible_text(panel.estimate_html.value)  # 1 unit x $40 per hour
            panel.deploy_button.click()
            assert panel.deck is not None
            pending = panel.deck.list_requests("pending")
            assert len(pending) == 1 and pending[0].requester == "alice"
            request = pending[0]
            assert request.surface == "jupyter"

            # the server posted the card to the configured channel
            post = fake.wait_for_call(
                "chat.postMessage",
                lambda c: c.args.get("channel") == CHANNEL and not c.args.get("thread_ts"),
            )
            assert request.id in str(post.args["blocks"])
            ts = str(post.response["ts"])

            sender = SlackSender(stack.server_url, SIGNING_SECRET)
            try:
                resp = SlackUser(BOB, sender, fake).click(APPROVE_ACTION, request.id, CHANNEL, ts)
            finally:
                sender.close()
            assert resp.status_code == 200
            fake.wait_for_call("chat.update", lambda c: c.args.get("ts") == ts)

            # Model Studio (the sandbox) really runs it, asked over its own API
            assert stack.settings is not None
            key = stack.settings.sandbox.api_key.get_secret_value()

            def sandbox_running() -> bool:
                listing = httpx.get(
                    f"{stack.sandbox_url}/api/v1/deployments",
                    headers={"Authorization": f"Bearer {key}"},
                ).json()["output"]["deployments"]
                return len(listing) == 1 and listing[0]["status"] == "RUNNING"

            eventually(sandbox_running, "the sandbox deployment to be RUNNING")

            # and the panel's table shows it RUNNING after a refresh
            def panel_shows_running() -> bool:
                panel.refresh_deployments()
                return "RUNNING" in panel.deployments_html.value

            eventually(panel_shows_running, "the panel to show RUNNING")
            assert "qwen3-32b" in panel.deployments_html.value
        finally:
            panel.close()
