"""Acks (issue 15): a command that changes something acks with only its validation and the
estimate; the store write, the card and the answer come after the ack (the answer through
response_url), and an invalid one is refused in the ack itself."""

from __future__ import annotations

import pytest

from modeldeck.testing import Stack
from modeldeck_slack.bot import WORKING
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import CHANNEL, MU_MODEL, SlackUser


def test_a_deploy_acks_with_its_estimate_and_answers_after(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    resp, url = alice.command(f"deploy {MU_MODEL} mu units=1")
    assert resp.status_code == 200
    ack = resp.json()
    assert ack["response_type"] == "ephemeral"
    assert ack["text"].startswith(WORKING) and "$960.00 per day" in ack["text"]
    assert "req_" not in ack["text"]  # nothing was stored before the ack
    post = fake_slack.wait_for_response(url)
    assert post.accepted and "req_" in str(post.body) and post.body["replace_original"] is False
    card = fake_slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.args.get("channel") == CHANNEL and not c.args.get("thread_ts"),
    )
    assert stack.deck is not None
    [pending] = stack.deck.list_requests("pending")
    assert pending.id in str(card.args["blocks"]) and pending.id in str(post.body)


def test_an_invalid_deploy_is_refused_in_the_ack(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    resp, _ = alice.command(f"deploy {MU_MODEL} mu units=1 colour=blue")
    body = resp.json()
    assert ":warning:" in body["text"] and "colour" in body["text"]
    assert fake_slack.responses() == []
    assert stack.deck is not None and stack.deck.list_requests() == []


@pytest.mark.parametrize(
    "text",
    [
        "renew dep_missing days=7",
        'schedule dep_missing units=2 at="mon-fri 09:00"',
        "unschedule sch_missing",
        "withdraw req_missing",
    ],
)
def test_every_change_verb_acks_first_and_answers_after(
    text: str, alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    """renew, schedule, unschedule and withdraw write too: acked with their validation only,
    their answer (here: what was not found) reaches the response_url after the ack."""
    resp, url = alice.command(text)
    assert resp.status_code == 200
    assert resp.json()["text"].startswith(WORKING)
    post = fake_slack.wait_for_response(url)
    assert post.accepted and "missing" in str(post.body)
