"""Where cards go: the command's channel, else the configured one; the asker learns which."""

from __future__ import annotations

from modeldeck.domain import RequestStatus
from modeldeck.grammar import DeployCommand, parse
from modeldeck.testing import Stack
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import (
    ALICE,
    CHANNEL,
    MU_MODEL,
    SIGNING_SECRET,
    SlackUser,
    slack_settings,
)
from tests.slack.slack_wire import SlackSender

DEPLOY = f"deploy {MU_MODEL} mu units=1"


def test_channel_without_the_bot_falls_back_to_configured_channel(
    fake_slack: FakeSlack,
) -> None:
    with Stack(slack=slack_settings(fake_slack, channel=CHANNEL)) as stack:
        sender = SlackSender(stack.server_url, SIGNING_SECRET)
        alice = SlackUser(ALICE, sender, fake_slack)
        answer = alice.answer(DEPLOY, channel="C0OTHER")
        sender.close()
        refused = fake_slack.calls("chat.postMessage", ok=False)
        assert [c.error for c in refused] == ["not_in_channel"]
        posted = fake_slack.wait_for_call("chat.postMessage")
        assert posted.args["channel"] == CHANNEL
        assert f"<#{CHANNEL}>" in answer
        assert stack.deck is not None
        request = stack.deck.list_requests("pending")[0]
        assert request.refs["slack_channel"] == CHANNEL


def test_no_channel_anywhere_is_explained(fake_slack: FakeSlack) -> None:
    with Stack(slack=slack_settings(fake_slack)) as stack:
        sender = SlackSender(stack.server_url, SIGNING_SECRET)
        answer = SlackUser(ALICE, sender, fake_slack).answer(DEPLOY, channel="C0OTHER")
        sender.close()
        assert "could not post its card" in answer and "not_in_channel" in answer
        assert "/deck approve" in answer
        assert stack.deck is not None
        request = stack.deck.list_requests("pending")[0]
        assert request.status == RequestStatus.PENDING and "slack_ts" not in request.refs


def test_requests_from_other_surfaces_go_to_the_configured_channel(
    fake_slack: FakeSlack,
) -> None:
    with Stack(slack=slack_settings(fake_slack, channel=CHANNEL)) as stack:
        assert stack.deck is not None
        actor = stack.deck.resolve_actor("cli", "ops")
        command = parse(DEPLOY)
        assert isinstance(command, DeployCommand)
        request = stack.deck.request_deploy(command.spec, actor, "from the CLI")
        posted = fake_slack.wait_for_call("chat.postMessage")
        assert posted.args["channel"] == CHANNEL
        assert stack.deck.get_request(request.id).refs["slack_ts"] == posted.response["ts"]
        stack.deck.reject(request.id, stack.deck.resolve_actor("cli", "boss"), "not now")
        update = fake_slack.wait_for_call("chat.update")
        assert update.args["ts"] == posted.response["ts"]
        assert "not now" in str(update.args["blocks"])
