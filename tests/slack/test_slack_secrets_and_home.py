"""No token or signing secret ever leaves in a message or a log; App Home shows the state."""

from __future__ import annotations

import json
import logging

import pytest

from modeldeck.testing import Stack
from modeldeck_slack.blocks import APPROVE_ACTION
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import (
    ALICE,
    BOB,
    BOT_TOKEN,
    CHANNEL,
    MU_MODEL,
    SIGNING_SECRET,
    SlackUser,
)
from tests.slack.slack_wire import SlackSender


def test_no_secret_reaches_slack_or_the_log(
    alice: SlackUser,
    bob: SlackUser,
    fake_slack: FakeSlack,
    stack: Stack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # even debug logs must not carry a secret
    alice.answer("help")
    alice.answer(f"estimate {MU_MODEL} mu units=1 hours=3")
    alice.answer("estimate nothing")
    alice.answer("config show")
    alice.answer(f"deploy {MU_MODEL} mu units=1")
    post = fake_slack.wait_for_call("chat.postMessage")
    ts = str(post.response["ts"])
    request_id = post.args["blocks"][-1]["elements"][0]["value"]
    alice.click(APPROVE_ACTION, request_id, CHANNEL, ts)
    bob.click(APPROVE_ACTION, request_id, CHANNEL, ts)
    fake_slack.wait_for_call("chat.update", lambda c: c.args.get("ts") == ts)
    answered = {c.args["user"] for c in fake_slack.calls("chat.postEphemeral")}
    fake_slack.wait_for(
        lambda f: {c.args["user"] for c in f.calls("chat.postEphemeral")} >= {ALICE, BOB},
        what="an answer to both clicks",
    )
    assert answered <= {ALICE, BOB}
    recorded = fake_slack.everything_recorded()
    assert len(recorded) > 1000  # the check below looked at real traffic
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        assert secret not in recorded
        assert secret not in caplog.text
    # every Web API call carried the token the proper way (header), and only there
    assert all(c.authorized for c in fake_slack.calls())
    assert not any("token" in c.args for c in fake_slack.calls())


def test_app_home_lists_pending_requests_and_deployments(
    alice: SlackUser, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    alice.answer(f'deploy {MU_MODEL} mu units=1 reason="home test"')
    resp = sender.event(
        {"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB", "tab": "home"}
    )
    assert resp.status_code == 200
    call = fake_slack.wait_for_call("views.publish")
    assert call.args["user_id"] == "U0BOB"
    view = json.dumps(call.args["view"])
    assert "Waiting for approval" in view and MU_MODEL in view
    assert fake_slack.state.home["U0BOB"]["type"] == "home"
