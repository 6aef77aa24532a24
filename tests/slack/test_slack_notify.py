"""The right people hear the right thing: approvers on the card, the requester by DM.

Team mode over the signed wire: alice (deployer) asks, bob (approver) and dave (admin) may
decide, carol (viewer) may not. Every DM must be in alice's direct message (conversations.open)
with the card's permalink (chat.getPermalink), and progress goes to the thread of the card of
the request that caused it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from modeldeck.domain import RequestStatus
from modeldeck.events import ExecutionFailed, RequestDecided
from modeldeck.testing import Stack
from modeldeck_slack.blocks import APPROVE_ACTION, REJECT_ACTION
from tests.slack.fake_slack import Call, FakeSlack, dm_channel
from tests.slack.slack_env import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    DAVE,
    MU_MODEL,
    SIGNING_SECRET,
    SlackUser,
    slack_settings,
)
from tests.slack.slack_wire import SlackSender

PRINCIPALS = [
    {"name": "alice", "slack_user": ALICE, "roles": ["deployer"]},
    {"name": "bob", "slack_user": BOB, "roles": ["approver"]},
    {"name": "carol", "slack_user": CAROL, "roles": ["viewer"]},
    {"name": "dave", "slack_user": DAVE, "roles": ["admin"]},
]


@pytest.fixture
def team(fake_slack: FakeSlack) -> Iterator[Stack]:
    with Stack(slack=slack_settings(fake_slack, channel=CHANNEL), principals=PRINCIPALS) as running:
        yield running


@pytest.fixture
def wire(team: Stack) -> Iterator[SlackSender]:
    sender = SlackSender(team.server_url, SIGNING_SECRET)
    yield sender
    sender.close()


def _card_post(channel: str = CHANNEL) -> object:
    def match(call: Call) -> bool:
        return call.args.get("channel") == channel and not call.args.get("thread_ts")

    return match


def ask(alice: SlackUser, fake: FakeSlack, text: str, n: int = 1) -> tuple[str, str]:
    """Alice types `text`; return (request id, ts of its card): the n-th card in the channel."""
    alice.answer(text)
    posts = fake.wait_for(
        lambda f: (
            cards
            if len(
                cards := [
                    c
                    for c in f.calls("chat.postMessage", ok=True)
                    if c.args.get("channel") == CHANNEL and not c.args.get("thread_ts")
                ]
            )
            >= n
            else None
        ),
        what=f"card number {n}",
    )
    post = posts[n - 1]
    buttons = [el for b in post.args["blocks"] if b["type"] == "actions" for el in b["elements"]]
    return str(buttons[0]["value"]), str(post.response["ts"])


def dms_to(fake: FakeSlack, user: str) -> list[str]:
    return [m.text + json.dumps(m.blocks) for m in fake.dm_messages(user)]


def wait_dm(fake: FakeSlack, user: str, *words: str) -> str:
    found: str = fake.wait_for(
        lambda f: next((t for t in dms_to(f, user) if all(w in t for w in words)), None),
        what=f"a DM to {user} with {words}",
    )
    return found


def test_the_card_mentions_the_people_who_can_decide(
    team: Stack, wire: SlackSender, fake_slack: FakeSlack
) -> None:
    alice = SlackUser(ALICE, wire, fake_slack)
    _, ts = ask(alice, fake_slack, f"deploy {MU_MODEL} mu units=1")
    card = json.dumps(fake_slack.message(CHANNEL, ts).blocks)
    assert "<@U0BOB>" in card and "<@U0DAVE>" in card  # approver and admin
    assert "<@U0CAROL>" not in card  # a viewer cannot decide


def test_requester_hears_approval_and_running_with_a_link_to_the_card(
    team: Stack, wire: SlackSender, fake_slack: FakeSlack
) -> None:
    alice, bob = SlackUser(ALICE, wire, fake_slack), SlackUser(BOB, wire, fake_slack)
    request_id, ts = ask(alice, fake_slack, f"deploy {MU_MODEL} mu units=1")
    link = fake_slack.wait_for_call("chat.getPermalink").response["permalink"]
    assert ts.replace(".", "") in link
    bob.click(APPROVE_ACTION, request_id, CHANNEL, ts)
    approved = wait_dm(fake_slack, ALICE, "approved", request_id)
    assert link in approved and "<@U0BOB>" in approved
    assert team.deck is not None
    deck = team.deck

    def running(f: FakeSlack) -> str | None:
        deck.refresh()
        return next((t for t in dms_to(f, ALICE) if "RUNNING" in t), None)

    assert link in fake_slack.wait_for(running, what="a RUNNING DM")
    opened = fake_slack.calls("conversations.open", ok=True)
    assert opened and all(c.args["users"] == ALICE for c in opened)
    assert dms_to(fake_slack, BOB) == []  # the approver is told ephemerally, not by DM


def test_requester_hears_a_rejection_with_its_reason(
    team: Stack, wire: SlackSender, fake_slack: FakeSlack
) -> None:
    alice = SlackUser(ALICE, wire, fake_slack)
    request_id, _ = ask(alice, fake_slack, f"deploy {MU_MODEL} mu units=1")
    SlackUser(BOB, wire, fake_slack).answer(f'reject {request_id} reason="too big for now"')
    text = wait_dm(fake_slack, ALICE, "rejected", request_id)
    assert "too big for now" in text and "/archives/C0DECK/p" in text


def test_requester_hears_failure_and_expiry(
    team: Stack, wire: SlackSender, fake_slack: FakeSlack
) -> None:
    """Failure and expiry come from the executor and the reconciler: sent as their events."""
    alice = SlackUser(ALICE, wire, fake_slack)
    first, _ = ask(alice, fake_slack, f"deploy {MU_MODEL} mu units=1")
    second, _ = ask(alice, fake_slack, f"deploy {MU_MODEL} mu units=2", n=2)
    assert team.deck is not None
    deck = team.deck
    deck.emit(ExecutionFailed(request=deck.get_request(first), error="quota exceeded"))
    deck.emit(RequestDecided(request=deck.get_request(second), verdict="expire"))
    assert "quota exceeded" in wait_dm(fake_slack, ALICE, "failed", first)
    wait_dm(fake_slack, ALICE, "expired", second)


def test_progress_of_a_scale_goes_to_the_scale_cards_thread(
    team: Stack, wire: SlackSender, fake_slack: FakeSlack
) -> None:
    alice, bob = SlackUser(ALICE, wire, fake_slack), SlackUser(BOB, wire, fake_slack)
    deploy_id, deploy_ts = ask(alice, fake_slack, f"deploy {MU_MODEL} mu units=1")
    bob.click(APPROVE_ACTION, deploy_id, CHANNEL, deploy_ts)
    assert team.deck is not None
    deck = team.deck
    fake_slack.wait_for(
        lambda f: deck.get_request(deploy_id).status == RequestStatus.EXECUTED, what="executed"
    )
    dep = deck.get_request(deploy_id).deployment_id
    assert dep is not None
    fake_slack.wait_for(
        lambda f: deck.refresh() and deck.get_deployment(dep).status == "RUNNING",
        what="RUNNING",
    )
    before = len(fake_slack.channel_messages(CHANNEL, thread_ts=deploy_ts))
    scale_id, scale_ts = ask(alice, fake_slack, f"scale {dep} units=2", n=2)
    card = json.dumps(fake_slack.message(CHANNEL, scale_ts).blocks, ensure_ascii=False)
    assert "1 unit(s) → 2 unit(s)" in card
    assert "$960.00 → $1,920.00 per day (+$960.00)" in card
    assert "+$960.00 per day" in card  # the Approve dialog repeats the difference
    bob.click(APPROVE_ACTION, scale_id, CHANNEL, scale_ts)
    fake_slack.wait_for(
        lambda f: deck.get_request(scale_id).status == RequestStatus.EXECUTED, what="scaled"
    )

    def scale_thread(f: FakeSlack) -> list[str]:
        deck.refresh()
        texts = [m.text for m in f.channel_messages(CHANNEL, thread_ts=scale_ts)]
        return texts if any("RUNNING" in t or "UPDATING" in t for t in texts) else []

    fake_slack.wait_for(scale_thread, what="scale progress in the scale card's thread")
    assert len(fake_slack.channel_messages(CHANNEL, thread_ts=deploy_ts)) == before


def test_a_deploy_typed_in_a_dm_posts_its_card_in_the_approvals_channel(
    team: Stack, wire: SlackSender, fake_slack: FakeSlack
) -> None:
    alice = SlackUser(ALICE, wire, fake_slack)
    dm = dm_channel(ALICE)
    answer = alice.answer(f"deploy {MU_MODEL} mu units=1", channel=dm)
    post = fake_slack.wait_for_call("chat.postMessage", lambda c: not c.args.get("thread_ts"))
    assert post.args["channel"] == CHANNEL
    assert "/archives/C0DECK/p" in answer  # the DM gets a link to the card
    assert [c for c in fake_slack.calls("chat.postMessage") if c.args.get("channel") == dm] == []


def test_the_reject_button_still_refuses_a_viewer(
    team: Stack, wire: SlackSender, fake_slack: FakeSlack
) -> None:
    alice, carol = SlackUser(ALICE, wire, fake_slack), SlackUser(CAROL, wire, fake_slack)
    request_id, ts = ask(alice, fake_slack, f"deploy {MU_MODEL} mu units=1")
    carol.click(REJECT_ACTION, request_id, CHANNEL, ts)
    fake_slack.wait_for(
        lambda f: [c for c in f.calls("chat.postEphemeral") if c.args["user"] == CAROL],
        what="carol's refusal",
    )
    assert team.deck is not None
    assert team.deck.get_request(request_id).status == RequestStatus.PENDING
    assert dms_to(fake_slack, ALICE) == []
