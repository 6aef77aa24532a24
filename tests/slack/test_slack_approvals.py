"""Approval cards end to end: /deck deploy posts a card, a click approves, the card updates.

Everything crosses real HTTP: signed requests into the server, the bot's Web API calls into the
fake Slack, the deck's calls into the sandbox.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from modeldeck.domain import RequestStatus
from modeldeck.testing import Stack
from modeldeck.tokens import create_token
from modeldeck_slack.blocks import APPROVE_ACTION, REJECT_ACTION, WITHDRAW_ACTION
from modeldeck_slack.modals import REJECT_MODAL
from tests.slack.fake_slack import Call, FakeSlack
from tests.slack.slack_env import ALICE, BOB, CHANNEL, MU_MODEL, USERS, SlackUser
from tests.slack.slack_wire import SlackSender

DEPLOY = f'deploy {MU_MODEL} mu units=1 reason="launch week"'


def _top_level_post(call: Call) -> bool:
    return call.args.get("channel") == CHANNEL and not call.args.get("thread_ts")


def post_card(alice: SlackUser, fake: FakeSlack) -> tuple[str, str, str]:
    """Alice asks for a deploy; return (request id, card ts, her ephemeral answer)."""
    answer = alice.answer(DEPLOY)
    post = fake.wait_for_call("chat.postMessage", _top_level_post)
    buttons = [el for b in post.args["blocks"] if b["type"] == "actions" for el in b["elements"]]
    assert [b["action_id"] for b in buttons] == [APPROVE_ACTION, REJECT_ACTION, WITHDRAW_ACTION]
    request_id = buttons[0]["value"]
    return request_id, str(post.response["ts"]), answer


def sandbox_deployments(stack: Stack) -> list[dict[str, Any]]:
    """What Model Studio (the sandbox) holds, asked over its own HTTP API."""
    assert stack.settings is not None
    key = stack.settings.sandbox.api_key.get_secret_value()
    resp = httpx.get(
        f"{stack.sandbox_url}/api/v1/deployments",
        headers={"Authorization": f"Bearer {key}"},
        params={"page_size": 100},
    )
    resp.raise_for_status()
    return list(resp.json()["output"]["deployments"])


def updates_of(fake: FakeSlack, ts: str) -> list[Call]:
    return [c for c in fake.calls("chat.update", ok=True) if c.args.get("ts") == ts]


def ephemerals_for(fake: FakeSlack, user: str) -> list[str]:
    return [
        c.args["text"] for c in fake.calls("chat.postEphemeral", ok=True) if c.args["user"] == user
    ]


def test_deploy_posts_card_in_channel_and_stores_where(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    request_id, ts, answer = post_card(alice, fake_slack)
    assert request_id in answer and "waiting for approval" in answer
    assert stack.deck is not None
    refs = stack.deck.get_request(request_id).refs
    assert refs == {
        "slack_channel": CHANNEL,
        "slack_ts": ts,
        "slack_permalink": fake_slack.wait_for_call("chat.getPermalink").response["permalink"],
    }
    card = fake_slack.message(CHANNEL, ts)
    assert card.ephemeral_for is None  # a channel message, so it can be updated later
    text = json.dumps(card.blocks)
    assert "launch week" in text and "<@U0ALICE>" in text and "$" in text
    assert sandbox_deployments(stack) == []


def test_approve_click_deploys_and_updates_card_in_place(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    request_id, ts, _ = post_card(alice, fake_slack)
    resp = bob.click(APPROVE_ACTION, request_id, CHANNEL, ts)
    assert resp.status_code == 200
    update = fake_slack.wait_for_call("chat.update", lambda c: c.args.get("ts") == ts)
    assert update.args["channel"] == CHANNEL
    fake_slack.wait_for(lambda f: ephemerals_for(f, BOB), what="bob's ephemeral outcome")
    assert stack.deck is not None
    request = stack.deck.get_request(request_id)
    assert request.status == RequestStatus.EXECUTED
    assert [d.principal for d in request.decisions] == [f"slack:{BOB}"]
    deployed = sandbox_deployments(stack)
    assert len(deployed) == 1 and deployed[0]["model_name"] == MU_MODEL
    card = fake_slack.message(CHANNEL, ts)
    text = json.dumps(card.blocks)
    assert all(b["type"] != "actions" for b in card.blocks)  # no buttons on a decided card
    assert "<@U0BOB> approved via slack" in text
    assert "executed" in ephemerals_for(fake_slack, BOB)[-1]
    assert len(updates_of(fake_slack, ts)) == 1  # the hook updated it; the click did not again
    # progress goes into the card's thread
    note = fake_slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.args.get("thread_ts") == ts and "Executed" in c.args["text"],
    )
    assert request.deployment_id is not None and request.deployment_id in note.args["text"]


def test_requester_cannot_approve_own_request(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    request_id, ts, _ = post_card(alice, fake_slack)
    assert alice.click(APPROVE_ACTION, request_id, CHANNEL, ts).status_code == 200
    refusal = fake_slack.wait_for(lambda f: ephemerals_for(f, ALICE), what="alice's refusal")
    assert "cannot approve" in refusal[-1]
    assert stack.deck is not None
    assert stack.deck.get_request(request_id).status == RequestStatus.PENDING
    assert updates_of(fake_slack, ts) == []
    assert sandbox_deployments(stack) == []


def test_reject_click_updates_card_and_deploys_nothing(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    request_id, ts, _ = post_card(alice, fake_slack)
    bob.click(REJECT_ACTION, request_id, CHANNEL, ts)
    fake_slack.wait_for_call("views.open")
    reason = {"reason": {"reason": {"type": "plain_text_input", "value": "not now"}}}
    assert bob.submit(fake_slack.opened_view(REJECT_MODAL), reason).status_code == 200
    fake_slack.wait_for_call("chat.update", lambda c: c.args.get("ts") == ts)
    fake_slack.wait_for(lambda f: ephemerals_for(f, BOB), what="bob's ephemeral outcome")
    assert stack.deck is not None
    assert stack.deck.get_request(request_id).status == RequestStatus.REJECTED
    assert "Rejected" in json.dumps(fake_slack.message(CHANNEL, ts).blocks)
    assert sandbox_deployments(stack) == []


def test_decided_elsewhere_updates_the_card(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    """Approved over the REST API (as a notebook in team mode would): the card follows."""
    request_id, ts, _ = post_card(alice, fake_slack)
    actor = {"principal": "carol", "surface": "jupyter", "roles": ["approver"]}
    assert stack.deck is not None  # who acts is the token's principal, not the body's
    _, token = create_token(stack.deck.store, "carol")
    resp = httpx.post(
        f"{stack.server_url}/api/requests/{request_id}/approve",
        json={"actor": actor},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 200, resp.text
    update = fake_slack.wait_for_call("chat.update", lambda c: c.args.get("ts") == ts)
    text = json.dumps(update.args["blocks"])
    assert "carol approved via jupyter" in text
    assert len(sandbox_deployments(stack)) == 1


def test_deployment_progress_goes_to_the_thread(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    request_id, ts, _ = post_card(alice, fake_slack)
    bob.click(APPROVE_ACTION, request_id, CHANNEL, ts)
    fake_slack.wait_for_call("chat.update", lambda c: c.args.get("ts") == ts)
    fake_slack.wait_for(lambda f: ephemerals_for(f, BOB), what="bob's ephemeral outcome")
    assert stack.deck is not None
    deck = stack.deck

    def running(f: FakeSlack) -> bool:
        deck.refresh()
        return any(
            "RUNNING" in c.args.get("text", "")
            for c in f.calls("chat.postMessage", ok=True)
            if c.args.get("thread_ts") == ts
        )

    fake_slack.wait_for(running, what="a RUNNING note in the card's thread")


def test_double_clicks_and_racing_approvers_deploy_once(
    alice: SlackUser, sender: SlackSender, fake_slack: FakeSlack, stack: Stack
) -> None:
    request_id, ts, _ = post_card(alice, fake_slack)
    clickers = [SlackUser(u, sender, fake_slack) for u in ("U0BOB", "U0BOB", "U0CAROL")]
    codes: list[int] = []
    threads = [
        threading.Thread(
            target=lambda u=u: codes.append(
                u.click(APPROVE_ACTION, request_id, CHANNEL, ts).status_code
            )
        )
        for u in clickers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200, 200, 200]
    fake_slack.wait_for(
        lambda f: len(ephemerals_for(f, "U0BOB")) == 2 and ephemerals_for(f, "U0CAROL"),
        what="an answer to each click",
    )
    assert stack.deck is not None
    assert stack.deck.get_request(request_id).status == RequestStatus.EXECUTED
    assert len(sandbox_deployments(stack)) == 1
    assert "U0CAROL" in USERS
