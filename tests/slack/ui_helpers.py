"""Helpers for the modal, share and paging tests: clicks that carry a value, modal typing."""

from __future__ import annotations

from typing import Any

import httpx

from modeldeck.domain import DeploymentRecord
from modeldeck.testing import Stack
from modeldeck_slack.blocks import ACTIONS_BLOCK_ID, APPROVE_ACTION
from tests.slack.fake_slack import Call, FakeSlack
from tests.slack.slack_env import CHANNEL, SlackUser
from tests.slack.slack_wire import block_actions_payload, interaction_body


def press(
    user: SlackUser,
    action_id: str,
    value: str,
    *,
    channel: str = CHANNEL,
    ts: str = "1700000000.000001",
    ephemeral: bool = True,
    option: bool = False,
) -> tuple[httpx.Response, str]:
    """Click a button (or pick an overflow option) on an ephemeral answer; the response_url."""
    url = user.fake.response_url()
    payload = block_actions_payload(
        action_id=action_id,
        value=value,
        user=user.user,
        channel=channel,
        message_ts=ts,
        response_url=url,
        trigger_id=user.fake.trigger_id(),
        is_ephemeral=ephemeral,
    )
    if option:
        action = payload["actions"][0]
        action.pop("value")
        action["type"] = "overflow"
        action["selected_option"] = {"text": {"type": "plain_text", "text": value}, "value": value}
    return user.sender.post(interaction_body(payload)), url


def typed(block: str, action: str, value: str | None) -> dict[str, dict[str, dict[str, Any]]]:
    """One text input's state as Slack sends it in `view.state.values`."""
    return {block: {action: {"type": "plain_text_input", "value": value}}}


def chosen(block: str, action: str, value: str) -> dict[str, dict[str, dict[str, Any]]]:
    """One static select's state."""
    option = {"text": {"type": "plain_text", "text": value}, "value": value}
    return {block: {action: {"type": "static_select", "selected_option": option}}}


def request_cards(fake: FakeSlack) -> list[Call]:
    """Every request card the bot posted in the channel (with its Approve/Reject row)."""
    return [
        c
        for c in fake.calls("chat.postMessage", ok=True)
        if c.args.get("channel") == CHANNEL
        and not c.args.get("thread_ts")
        and any(b.get("block_id") == ACTIONS_BLOCK_ID for b in c.args.get("blocks") or [])
    ]


def card_of(fake: FakeSlack, n: int = 1) -> tuple[str, str]:
    """The request id and ts of the n-th request card posted in the channel."""
    fake.wait_for(lambda f: len(request_cards(f)) >= n, what=f"request card #{n}")
    post = request_cards(fake)[n - 1]
    actions = next(b for b in post.args["blocks"] if b.get("block_id") == ACTIONS_BLOCK_ID)
    return str(actions["elements"][0]["value"]), str(post.response["ts"])


def running_deployment(
    stack: Stack, requester: SlackUser, approvers: list[SlackUser], words: str, n: int = 1
) -> DeploymentRecord:
    """`requester` asks in Slack, the approvers click Approve on the card: a deployment."""
    assert stack.deck is not None
    requester.answer(words)
    request_id, ts = card_of(requester.fake, n)
    for approver in approvers:
        assert approver.click(APPROVE_ACTION, request_id, CHANNEL, ts).status_code == 200
    deck = stack.deck
    done = requester.fake.wait_for(
        lambda f: deck.get_request(request_id).deployment_id, what="the deployment"
    )
    return deck.get_deployment(str(done))
