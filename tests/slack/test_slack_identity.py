"""Team mode: Slack users map to configured principals; strangers and wrong roles are told why."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from modeldeck.domain import RequestStatus
from modeldeck.testing import Stack
from modeldeck_slack.blocks import APPROVE_ACTION
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    MU_MODEL,
    SIGNING_SECRET,
    STRANGER,
    SlackUser,
    slack_settings,
)
from tests.slack.slack_wire import SlackSender

PRINCIPALS = [
    {"name": "alice", "slack_user": ALICE, "roles": ["deployer"]},
    {"name": "bob", "slack_user": BOB, "roles": ["approver"]},
    {"name": "carol", "slack_user": CAROL, "roles": ["viewer"]},
]


@pytest.fixture
def team(fake_slack: FakeSlack) -> Iterator[tuple[Stack, SlackSender]]:
    with Stack(slack=slack_settings(fake_slack), principals=PRINCIPALS) as stack:
        sender = SlackSender(stack.server_url, SIGNING_SECRET)
        yield stack, sender
        sender.close()


def person(user: str, team: tuple[Stack, SlackSender], fake: FakeSlack) -> SlackUser:
    return SlackUser(user, team[1], fake)


def test_stranger_gets_help_but_nothing_else(
    team: tuple[Stack, SlackSender], fake_slack: FakeSlack
) -> None:
    stranger = person(STRANGER, team, fake_slack)
    assert "estimate" in stranger.answer("help")
    text = stranger.answer("list")
    assert "not linked" in text and STRANGER in text and "slack_user" in text
    assert fake_slack.calls("chat.postMessage") == []


def test_roles_decide_and_cards_name_people(
    team: tuple[Stack, SlackSender], fake_slack: FakeSlack
) -> None:
    stack, _ = team
    alice, bob = person(ALICE, team, fake_slack), person(BOB, team, fake_slack)
    carol, stranger = person(CAROL, team, fake_slack), person(STRANGER, team, fake_slack)
    assert "may not request" in carol.answer(f"deploy {MU_MODEL} mu units=1")
    alice.answer(f"deploy {MU_MODEL} mu units=1")
    post = fake_slack.wait_for_call("chat.postMessage")
    ts = str(post.response["ts"])
    assert "<@U0ALICE> (alice)" in json.dumps(post.args["blocks"])
    assert stack.deck is not None
    request_id = stack.deck.list_requests("pending")[0].id

    def ephemerals(user: str) -> list[str]:
        return [
            c.args["text"] for c in fake_slack.calls("chat.postEphemeral") if c.args["user"] == user
        ]

    stranger.click(APPROVE_ACTION, request_id, CHANNEL, ts)
    assert "not linked" in fake_slack.wait_for(lambda f: ephemerals(STRANGER))[-1]
    carol.click(APPROVE_ACTION, request_id, CHANNEL, ts)
    assert "may not decide" in fake_slack.wait_for(lambda f: ephemerals(CAROL))[-1]
    assert stack.deck.get_request(request_id).status == RequestStatus.PENDING
    bob.click(APPROVE_ACTION, request_id, CHANNEL, ts)
    fake_slack.wait_for(lambda f: ephemerals(BOB))
    assert stack.deck.get_request(request_id).status == RequestStatus.EXECUTED
    card = json.dumps(fake_slack.message(CHANNEL, ts).blocks)
    assert "<@U0BOB> (bob) approved via slack" in card
