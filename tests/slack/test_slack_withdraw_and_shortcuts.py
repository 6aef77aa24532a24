"""Withdraw from the card (its requester only) and the deploy modal's other entry points: the
global and message shortcuts and the Deploy button, over the signed wire."""

from __future__ import annotations

import json
import time
from typing import Any

from modeldeck.domain import RequestStatus
from modeldeck.testing import Stack
from modeldeck_slack.blocks import WITHDRAW_ACTION
from modeldeck_slack.modals import DEPLOY_MODAL, DEPLOY_SHORTCUT, OPEN_DEPLOY_ACTION
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import ALICE, BOB, CHANNEL, MU_MODEL, SlackUser
from tests.slack.slack_wire import interaction_body
from tests.slack.ui_helpers import card_of, press


def test_only_the_requester_can_withdraw_from_the_card(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    alice.answer(f"deploy {MU_MODEL} mu units=1")
    request_id, ts = card_of(fake_slack)
    card = fake_slack.message(CHANNEL, ts).blocks
    buttons = [el for b in card if b["type"] == "actions" for el in b["elements"]]
    withdraw = [b for b in buttons if b["action_id"] == WITHDRAW_ACTION]
    assert withdraw and withdraw[0]["value"] == request_id and "confirm" in withdraw[0]
    # Bob may not: he is told so, only him, and nothing changes
    assert bob.click(WITHDRAW_ACTION, request_id, CHANNEL, ts).status_code == 200
    refusal = fake_slack.wait_for_call(
        "chat.postEphemeral", lambda c: c.args["user"] == BOB and request_id in c.args["text"]
    )
    assert "Only slack:U0ALICE" in refusal.args["text"]
    assert stack.deck is not None
    assert stack.deck.get_request(request_id).status == RequestStatus.PENDING
    assert fake_slack.message(CHANNEL, ts).edits == 0
    # Alice may: the request is withdrawn, the card loses its buttons and says so
    assert alice.click(WITHDRAW_ACTION, request_id, CHANNEL, ts).status_code == 200
    fake_slack.wait_for_call("chat.update", lambda c: c.args.get("ts") == ts)
    assert stack.deck.get_request(request_id).status == RequestStatus.WITHDRAWN
    after = fake_slack.message(CHANNEL, ts).blocks
    assert all(b["type"] != "actions" for b in after)
    assert "withdrawn" in json.dumps(after).lower()
    told = fake_slack.wait_for_call(
        "chat.postEphemeral", lambda c: c.args["user"] == ALICE and "withdrawn" in c.args["text"]
    )
    assert "nothing will run" in told.args["text"]


def shortcut_payload(
    fake: FakeSlack, kind: str, message: dict[str, Any] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": kind,
        "callback_id": DEPLOY_SHORTCUT,
        "trigger_id": fake.trigger_id(),
        "user": {"id": ALICE, "username": "alice", "team_id": "T0MODELDECK"},
        "team": {"id": "T0MODELDECK", "domain": "modeldeck-fake"},
        "api_app_id": "A0MODELDECK",
        "token": "deprecated-verification-token",
        "action_ts": f"{time.time():.6f}",
        "is_enterprise_install": False,
        "enterprise": None,
    }
    if message is not None:
        payload.update(
            channel={"id": CHANNEL, "name": "deck"},
            message=message,
            message_ts=message["ts"],
            response_url=fake.response_url(),
        )
    return payload


def test_global_shortcut_opens_the_deploy_modal(alice: SlackUser, fake_slack: FakeSlack) -> None:
    resp = alice.sender.post(interaction_body(shortcut_payload(fake_slack, "shortcut")))
    assert resp.status_code == 200
    fake_slack.wait_for_call("views.open")
    view = fake_slack.opened_view(DEPLOY_MODAL)
    assert json.loads(view["private_metadata"]) == {"c": None}
    assert MU_MODEL in json.dumps(view["blocks"])


def test_message_shortcut_opens_the_deploy_modal_with_the_message_as_reason(
    alice: SlackUser, fake_slack: FakeSlack
) -> None:
    ts = fake_slack.post_user_message(CHANNEL, BOB, "we need capacity for the launch demo")
    message = {
        "type": "message",
        "user": BOB,
        "ts": ts,
        "text": fake_slack.message(CHANNEL, ts).text,
    }
    payload = shortcut_payload(fake_slack, "message_action", message)
    assert alice.sender.post(interaction_body(payload)).status_code == 200
    fake_slack.wait_for_call("views.open")
    view = fake_slack.opened_view(DEPLOY_MODAL)
    assert json.loads(view["private_metadata"]) == {"c": CHANNEL}  # its card goes there
    (reason,) = [b for b in view["blocks"] if b.get("block_id") == "reason"]
    assert reason["element"]["initial_value"] == "we need capacity for the launch demo"


def test_deploy_button_opens_the_deploy_modal(alice: SlackUser, fake_slack: FakeSlack) -> None:
    resp, _ = press(alice, OPEN_DEPLOY_ACTION, "deploy")
    assert resp.status_code == 200
    fake_slack.wait_for_call("views.open")
    assert fake_slack.opened_view(DEPLOY_MODAL)["callback_id"] == DEPLOY_MODAL
