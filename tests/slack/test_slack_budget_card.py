"""A request card over Slack's wire names the budgets the request falls under: the forecast now
→ with it, and the thresholds it would cross (a soft budget at 70% that the request takes past
80% says so)."""

from __future__ import annotations

from modeldeck.grammar import parse
from modeldeck.testing import Stack
from modeldeck_slack.budget_fields import BLOCK_ID
from tests.slack.fake_slack import Call, FakeSlack, _check_blocks
from tests.slack.slack_env import CHANNEL, MU_MODEL, SlackUser
from tests.slack.test_slack_costs import deployed


def _card(call: Call) -> bool:
    return call.args.get("channel") == CHANNEL and not call.args.get("thread_ts")


def test_the_card_of_a_request_that_takes_a_soft_budget_past_80_percent_says_so(
    alice: SlackUser, bob: SlackUser, stack: Stack, fake_slack: FakeSlack
) -> None:
    assert stack.deck is not None
    deployed(stack, alice, bob, f"deploy {MU_MODEL} mu units=1 suffix=base")
    ops = stack.deck.resolve_actor("cli", "ops")
    stack.deck.run(parse("budget set name=team amount=1000000 thresholds=50,80,150"), ops)
    total = stack.deck.budgets().lines[0].forecast.total
    stack.deck.run(parse(f"budget set name=team amount={total * 10 / 7}"), ops)
    before = len(fake_slack.calls("chat.postMessage", ok=True))
    alice.answer(f"deploy {MU_MODEL} mu units=1 suffix=next")
    fake_slack.wait_for_call(
        "chat.postMessage",
        lambda c: _card(c) and len(fake_slack.calls("chat.postMessage", ok=True)) > before,
    )
    post = [c for c in fake_slack.calls("chat.postMessage", ok=True) if _card(c)][-1]
    blocks = post.args["blocks"]
    _check_blocks(blocks, 50)
    (section,) = [b for b in blocks if b.get("block_id") == BLOCK_ID]
    text = section["text"]["text"]
    assert text.startswith("*Budgets* (forecast for the period: now → with this request)\n")
    (line,) = text.splitlines()[1:]
    assert line.startswith("• team (soft, workspace): forecast $") and "(70%) → $" in line
    assert "; crosses 80%;" in line
    ids = [b.get("block_id") for b in blocks]
    assert ids.index(BLOCK_ID) < ids.index("modeldeck_context")  # with the cost, above the buttons
