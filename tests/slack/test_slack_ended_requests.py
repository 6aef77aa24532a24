"""Withdrawn and stale requests on Slack (issue 10): the card says so in words and loses its
buttons, the answer names the state, and the requester of a stale request is told why."""

from __future__ import annotations

import json
from decimal import Decimal

from modeldeck.domain import RequestStatus
from modeldeck.testing import Stack
from tests.slack.fake_slack import FakeSlack, dm_channel
from tests.slack.slack_env import (
    ALICE,
    BOB,
    CHANNEL,
    MU_MODEL,
    SIGNING_SECRET,
    SlackUser,
    slack_settings,
)
from tests.slack.slack_wire import SlackSender


def _card_ts(fake: FakeSlack, request_id: str) -> str:
    post = fake.wait_for_call(
        "chat.postMessage",
        lambda c: not c.args.get("thread_ts") and request_id in json.dumps(c.args.get("blocks")),
    )
    return str(post.response["ts"])


def _updated_card(fake: FakeSlack, ts: str, label: str) -> str:
    """The card's blocks once chat.update has drawn `label` on it."""

    def drawn(f: FakeSlack) -> str | None:
        card = json.dumps(f.message(CHANNEL, ts).blocks)
        return card if label in card else None

    found: str = fake.wait_for(drawn, what=f"the card updated to {label!r}")
    return found


def test_a_withdrawn_request_card_says_so_and_loses_its_buttons(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    alice.answer(f"deploy {MU_MODEL} mu units=1")
    assert stack.deck is not None
    [pending] = stack.deck.list_requests("pending")
    ts = _card_ts(fake_slack, pending.id)
    answer = alice.answer(f"withdraw {pending.id}")
    assert "withdrawn" in answer and "could not post its card" not in answer
    card = _updated_card(fake_slack, ts, "Withdrawn by the requester")
    assert "modeldeck_approve" not in card and "modeldeck_reject" not in card
    note = fake_slack.wait_for_call("chat.postMessage", lambda c: c.args.get("thread_ts") == ts)
    assert "Withdrawn" in note.args["text"]


def test_a_stale_request_card_says_why_and_its_requester_is_told(fake_slack: FakeSlack) -> None:
    """A pending scale whose deployment was unpublished since can no longer be approved."""
    policy = {"auto_approve_below_usd_per_day": Decimal("1000")}  # 1 unit runs, 2 need approval
    with Stack(slack=slack_settings(fake_slack), policy=policy) as stack:
        sender = SlackSender(stack.server_url, SIGNING_SECRET)
        try:
            alice = SlackUser(ALICE, sender, fake_slack)
            alice.answer(f"deploy {MU_MODEL} mu units=1")
            assert stack.deck is not None
            deck = stack.deck
            [done] = deck.list_requests("executed")
            dep_id = done.deployment_id
            assert dep_id is not None
            alice.answer(f"scale {dep_id} units=2")
            [scale] = deck.list_requests("pending")
            ts = _card_ts(fake_slack, scale.id)
            bob = deck.resolve_actor("slack", BOB)
            gone = deck.request_unpublish(dep_id, bob)
            if gone.status == RequestStatus.PENDING:
                deck.approve(gone.id, deck.resolve_actor("slack", ALICE))
            deck.list_requests()  # the sweep notices the scale's deployment is gone
            assert deck.get_request(scale.id).status == RequestStatus.STALE
            card = _updated_card(fake_slack, ts, "Stale: no longer approvable")
            assert "unpublished since the request was made" in card
            assert "modeldeck_approve" not in card
            told = fake_slack.wait_for(
                lambda f: [
                    m for m in f.dm_messages(ALICE) if scale.id in m.text and "stale" in m.text
                ],
                what="alice told her request is stale",
            )
            assert "can no longer be approved" in told[0].text
            assert dm_channel(ALICE) in fake_slack.dms
        finally:
            sender.close()
