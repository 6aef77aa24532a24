"""`/deck approvals`, `/deck approve <id>` and `/deck reject <id> reason=…` over the signed wire.

The queue is readable and actionable; a decision typed as a command gets the deck's truthful
answer and updates the request's card in the channel, like a click on the card would.
"""

from __future__ import annotations

import json
from typing import Any

from modeldeck.domain import RequestRecord, RequestStatus
from modeldeck.money import format_amount
from modeldeck.testing import Stack
from modeldeck_slack.blocks import ACTIONS_BLOCK_ID, APPROVE_ACTION, REJECT_ACTION
from modeldeck_slack.bot import WORKING
from tests.slack.fake_slack import Call, FakeSlack, _check_blocks
from tests.slack.slack_env import ALICE, BOB, CAROL, CHANNEL, MU_MODEL, SlackUser
from tests.slack.slack_wire import SlackSender

HOURLY = f"deploy {MU_MODEL} mu units=1 suffix=hr"
# An order bought through the API (monthly MU packages are bought in the console).
MONTHLY = "deploy qwen3-max-2025-09-23 ptu billing=upfront in=20000 out=2000 days=7 suffix=mo"


def ack_of(user: SlackUser, text: str) -> dict[str, Any]:
    """The answer: the ack, or (for a change, acked first) what came to the response_url."""
    resp, url = user.command(text)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["response_type"] == "ephemeral"
    if str(body["text"]).startswith(WORKING):
        body = user.fake.wait_for_response(url).body
        assert body["response_type"] == "ephemeral"
    _check_blocks(body["blocks"], 50)
    return body


def ask(user: SlackUser, stack: Stack, words: str) -> tuple[RequestRecord, str]:
    """A deploy request from Slack; the request and the ts of its card in the channel."""
    assert stack.deck is not None
    before = {r.id for r in stack.deck.list_requests()}
    user.answer(words)
    (request,) = [r for r in stack.deck.list_requests() if r.id not in before]
    ts = request.refs["slack_ts"]
    assert request.refs["slack_channel"] == CHANNEL
    return request, ts


def card_updates(fake: FakeSlack, ts: str) -> list[Call]:
    return [c for c in fake.calls("chat.update", ok=True) if c.args.get("ts") == ts]


def card_text(fake: FakeSlack, ts: str) -> str:
    return json.dumps(fake.message(CHANNEL, ts).blocks)


def test_approvals_lists_each_request_with_what_it_needs_and_buttons(
    alice: SlackUser, bob: SlackUser, stack: Stack
) -> None:
    hourly, _ = ask(alice, stack, HOURLY)
    monthly, _ = ask(alice, stack, MONTHLY)
    body = ack_of(bob, "approvals")
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert sections[0] == "*2 requests waiting for a decision*"
    for request, needs in ((hourly, "needs 1 more approval (0 of 1)"), (monthly, "(0 of 2)")):
        (text,) = [s for s in sections if f"`{request.id}`" in s]
        assert f"*{request.summary}*" in text
        assert f"Requested by <@{ALICE}> via slack" in text
        assert request.estimate is not None
        assert format_amount(request.estimate.total, request.estimate.currency) in text
        assert request.policy.rule in text and needs in text
        assert f"`/deck approve {request.id}`" in text
    assert "needs 2 more approvals (0 of 2)" in "\n".join(sections)
    actions = [b for b in body["blocks"] if b["type"] == "actions"]
    assert [a["block_id"] for a in actions] == [
        f"{ACTIONS_BLOCK_ID}:{hourly.id}",
        f"{ACTIONS_BLOCK_ID}:{monthly.id}",
    ]
    for action, request in zip(actions, (hourly, monthly), strict=True):
        assert [(e["action_id"], e["value"]) for e in action["elements"]] == [
            (APPROVE_ACTION, request.id),
            (REJECT_ACTION, request.id),
        ]
        assert "confirm" in action["elements"][0]  # Reject opens a modal asking why
    assert hourly.id in body["text"] and monthly.id in body["text"]


def test_an_empty_queue_says_so(bob: SlackUser) -> None:
    body = ack_of(bob, "approvals")
    assert body["text"] == "Nothing is waiting for approval."


def test_approve_by_command_answers_truthfully_and_updates_the_card(
    alice: SlackUser, bob: SlackUser, sender: SlackSender, fake_slack: FakeSlack, stack: Stack
) -> None:
    request, ts = ask(alice, stack, MONTHLY)
    carol = SlackUser(CAROL, sender, fake_slack)

    first = ack_of(bob, f"approve {request.id}")
    assert first["text"] == f":ballot_box_with_check: Approval recorded for {request.id} (1 of 2)."
    head = first["blocks"][0]["text"]["text"]
    assert f"<@{BOB}> approved via slack" in head
    assert f"Its card in <#{CHANNEL}> is updated." in head
    assert "needs 1 more approval(s)" in json.dumps(first["blocks"])
    (update,) = card_updates(fake_slack, ts)
    card = json.dumps(update.args["blocks"])
    assert "1 of 2" in card and APPROVE_ACTION in card  # still waiting: buttons stay

    again = ack_of(bob, f"approve {request.id}")
    assert (
        again["text"] == f":information_source: You already voted on {request.id}; nothing changed."
    )

    done = ack_of(carol, f"approve {request.id}")
    assert done["text"] == f":white_check_mark: {request.id} approved and executed."
    assert "*Status*\\n:white_check_mark: Approved and done" in json.dumps(done["blocks"])
    assert "```" not in json.dumps(done["blocks"])  # the request as fields, not a code block
    assert len(card_updates(fake_slack, ts)) == 2
    final = card_text(fake_slack, ts)
    assert APPROVE_ACTION not in final and f"<@{CAROL}> approved via slack" in final
    assert stack.deck is not None
    assert stack.deck.get_request(request.id).status == RequestStatus.EXECUTED

    late = ack_of(bob, f"reject {request.id}")
    assert late["text"].startswith(f":information_source: {request.id} was already executed")
    assert len(card_updates(fake_slack, ts)) == 2  # nothing changed, nothing re-posted


def test_reject_by_command_keeps_the_reason_on_the_card(
    alice: SlackUser, bob: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    request, ts = ask(alice, stack, HOURLY)
    # Slack's clients turn straight quotes into curly ones; the grammar reads both
    body = ack_of(bob, f"reject {request.id} reason=“too big for <!channel> this week”")
    assert body["text"] == f":x: {request.id} rejected."
    head = body["blocks"][0]["text"]["text"]
    assert f"<@{BOB}> rejected via slack" in head
    assert "too big for &lt;!channel&gt; this week" in head  # shown, never a mention
    assert f"Its card in <#{CHANNEL}> is updated." in head
    assert stack.deck is not None
    stored = stack.deck.get_request(request.id)
    assert stored.status == RequestStatus.REJECTED
    assert [d.reason for d in stored.decisions] == ["too big for <!channel> this week"]
    (update,) = card_updates(fake_slack, ts)
    card = json.dumps(update.args["blocks"])
    assert "Rejected" in card and "too big for &lt;!channel&gt; this week" in card
    assert APPROVE_ACTION not in card


def test_the_requester_is_refused_by_command(
    alice: SlackUser, fake_slack: FakeSlack, stack: Stack
) -> None:
    request, ts = ask(alice, stack, HOURLY)
    text = alice.answer(f"approve {request.id}")
    assert ":warning:" in text and "cannot approve" in text
    assert card_updates(fake_slack, ts) == []
    assert stack.deck is not None
    assert stack.deck.get_request(request.id).status == RequestStatus.PENDING


def test_a_click_in_the_ephemeral_queue_decides_and_updates_the_channel_card(
    alice: SlackUser, bob: SlackUser, sender: SlackSender, fake_slack: FakeSlack, stack: Stack
) -> None:
    request, ts = ask(alice, stack, HOURLY)
    ack_of(bob, "approvals")
    resp = sender.click(
        action_id=APPROVE_ACTION,
        value=request.id,
        user=BOB,
        channel=CHANNEL,
        message_ts="1700000000.000099",  # the ephemeral list: Slack gives it no real message
        response_url=fake_slack.response_url(),
        trigger_id=fake_slack.trigger_id(),
        block_id=f"{ACTIONS_BLOCK_ID}:{request.id}",
        is_ephemeral=True,
    )
    assert resp.status_code == 200
    told = fake_slack.wait_for(
        lambda f: [c for c in f.calls("chat.postEphemeral", ok=True) if c.args["user"] == BOB],
        what="bob's outcome",
    )
    assert f"{request.id} approved and executed." in told[-1].args["text"]
    (update,) = card_updates(fake_slack, ts)  # the channel card, by the hook
    assert f"<@{BOB}> approved via slack" in json.dumps(update.args["blocks"])
    assert all(c.args.get("ts") == ts for c in fake_slack.calls("chat.update"))
