"""A replayed Slack submission makes one request and one card (issue 10, idempotency keys).

The same signed `/deck deploy …` delivered twice (a replay within Bolt's 5-minute timestamp
window, or Slack retrying it) carries the same `trigger_id`; the same modal submitted twice the
same view id. The deck answers the second with the first request and posts no second card.
"""

from __future__ import annotations

import json
import time

from modeldeck.testing import Stack
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import ALICE, CHANNEL, MU_MODEL, SlackUser
from tests.slack.slack_wire import SlackSender, slash_command_body
from tests.slack.test_slack_modals import deploy_values


def _cards(fake: FakeSlack) -> list[str]:
    """The request cards posted in the channel (top-level messages naming a request)."""
    return [
        json.dumps(m.blocks)
        for m in fake.channel_messages(CHANNEL)
        if "req_" in json.dumps(m.blocks)
    ]


def test_a_replayed_signed_command_makes_one_request_and_one_card(
    sender: SlackSender, fake_slack: FakeSlack, stack: Stack
) -> None:
    url = fake_slack.response_url()
    body = slash_command_body(
        f"deploy {MU_MODEL} mu units=1",
        user=ALICE,
        channel=CHANNEL,
        response_url=url,
        trigger_id=fake_slack.trigger_id(),
    )
    signed_at = int(time.time())
    first = sender.post(body, timestamp=signed_at)
    replay = sender.post(body, timestamp=signed_at)  # byte for byte, same signature
    assert first.status_code == replay.status_code == 200, (first.text, replay.text)
    key = url.rsplit("/", 1)[-1]
    answers = fake_slack.wait_for(
        lambda f: f.responses(key) if len(f.responses(key)) >= 2 else None,
        what="both deliveries answered",
    )
    assert stack.deck is not None
    [request] = stack.deck.list_requests()
    assert all(request.id in json.dumps(a.body) for a in answers)
    [card] = _cards(fake_slack)
    assert request.id in card


def test_the_same_command_typed_twice_makes_two_requests(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    """Each invocation has its own trigger_id: the key never merges two real submissions."""
    for _ in range(2):
        resp, url = alice.command(f"deploy {MU_MODEL} mu units=1")
        assert resp.status_code == 200
        fake_slack.wait_for_response(url)
    assert stack.deck is not None
    assert len(stack.deck.list_requests()) == 2
    assert len(_cards(fake_slack)) == 2


def test_a_deploy_modal_submitted_twice_makes_one_request(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    from modeldeck_slack.modals import DEPLOY_MODAL

    resp, _ = alice.command("deploy")
    assert resp.status_code == 200
    fake_slack.wait_for_call("views.open")
    view = fake_slack.opened_view(DEPLOY_MODAL)
    for _ in range(2):
        assert alice.submit(view, deploy_values(duration="10h")).status_code == 200
    told = fake_slack.wait_for(
        lambda f: (
            found
            if len(found := [c for c in f.calls("chat.postEphemeral") if c.args["user"] == ALICE])
            >= 2
            else None
        ),
        what="alice told twice",
    )
    assert stack.deck is not None
    [request] = stack.deck.list_requests()
    assert all(request.id in json.dumps(t.args) for t in told)
    assert len(_cards(fake_slack)) == 1
