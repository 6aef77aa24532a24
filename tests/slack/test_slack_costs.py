"""`/deck cost` and `/deck estimate … compare` over Slack's signed wire: readable, in dollars."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from modeldeck.domain import DeploymentRecord
from modeldeck.grammar import DeployCommand, EstimateCommand, parse
from modeldeck.money import format_amount
from modeldeck.results import CostResult
from modeldeck.testing import Stack
from tests.slack.fake_slack import FakeSlack, _check_blocks
from tests.slack.slack_env import MU_MODEL, PTU_MODEL, SlackUser


def ack_of(user: SlackUser, text: str) -> dict[str, Any]:
    """The answer in the slash command's HTTP response, checked the way Slack checks blocks."""
    resp, _ = user.command(text)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["response_type"] == "ephemeral"
    _check_blocks(body["blocks"], 50)
    return body


def section_texts(body: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in body["blocks"] if b["type"] == "section" and "text" in b]


def all_texts(body: dict[str, Any]) -> list[str]:
    """Every section text and field text of an answer, in order."""
    out: list[str] = []
    for block in body["blocks"]:
        if block["type"] == "section":
            out += [block["text"]["text"]] if "text" in block else []
            out += [f["text"] for f in block.get("fields") or []]
    return out


def deployed(stack: Stack, alice: SlackUser, bob: SlackUser, words: str) -> DeploymentRecord:
    """Alice asks in Slack, Bob approves with /deck approve: a deployment that costs money."""
    assert stack.deck is not None
    alice.answer(words)
    (request,) = stack.deck.list_requests("pending")
    assert "approved and executed" in bob.answer(f"approve {request.id}")
    done = stack.deck.get_request(request.id)
    assert done.deployment_id is not None
    return stack.deck.get_deployment(done.deployment_id)


def deck_total(stack: Stack, words: str) -> str:
    """The total the deck itself gives for a cost command, as Slack should show it."""
    assert stack.deck is not None
    result = stack.deck.run(parse(words), stack.deck.resolve_actor("cli", "ops"))
    assert isinstance(result, CostResult)
    return format_amount(result.report.total, result.report.currency)


def test_cost_is_a_table_in_a_code_block_with_the_total_in_dollars(
    alice: SlackUser, bob: SlackUser, stack: Stack
) -> None:
    dep = deployed(stack, alice, bob, f"deploy {MU_MODEL} mu units=1")
    before = deck_total(stack, "cost all period=today")
    body = ack_of(alice, "cost period=today")
    after = deck_total(stack, "cost all period=today")  # accrual runs to "now": bracket it
    texts = section_texts(body)
    assert texts[0].startswith("*Spend today*, all deployments\n")
    assert "Beijing" in texts[0]
    (table,) = [t for t in texts if t.startswith("```")]
    assert table.endswith("```")
    header, rule, *rows = table.strip("`").splitlines()
    assert header.split() == ["deployment", "item", "amount", "detail"]
    assert set(rule.replace(" ", "")) == {"-"}
    (row,) = rows
    assert row.startswith(dep.deployed_model or dep.id) and " reserved " in row
    assert "$" in row
    totals = [t for t in texts if t.startswith("*Total: ")]
    assert totals in ([f"*Total: {before}*"], [f"*Total: {after}*"])
    assert Decimal(before.lstrip("$")) > 0
    assert body["text"] in (
        f"Spend today, all deployments: {before}",
        f"Spend today, all deployments: {after}",
    )


def test_cost_of_one_deployment_over_a_duration(
    alice: SlackUser, bob: SlackUser, stack: Stack
) -> None:
    first = deployed(stack, alice, bob, f"deploy {MU_MODEL} mu units=1 suffix=one")
    second = deployed(stack, alice, bob, f"deploy {MU_MODEL} mu units=2 suffix=two")
    name = first.deployed_model or first.id
    body = ack_of(alice, f"cost {name} period=7d")
    texts = section_texts(body)
    assert texts[0].startswith(f"*Spend the last 7 days*, `{name}`")
    (table,) = [t for t in texts if t.startswith("```")]
    assert name in table and (second.deployed_model or second.id) not in table


def test_nothing_spent_last_month_by_a_new_deployment(
    alice: SlackUser, bob: SlackUser, stack: Stack
) -> None:
    deployed(stack, alice, bob, f"deploy {MU_MODEL} mu units=1")
    texts = section_texts(ack_of(alice, "cost period=last-month"))
    assert texts[0].startswith("*Spend last month*")
    assert "nothing billed in this period" in "\n".join(texts)
    assert "*Total: $0.00*" in texts


def test_cost_with_no_deployments(alice: SlackUser) -> None:
    texts = section_texts(ack_of(alice, "cost"))
    assert texts[0].startswith("*Spend this month*, all deployments")
    assert "No deployments." in texts and "*Total: $0.00*" in texts


def test_a_bad_period_is_explained(alice: SlackUser) -> None:
    text = alice.answer("cost period=fortnight")
    assert ":warning:" in text and "fortnight" in text
    assert "last-month" in text and "YYYY-MM" in text
    assert "Traceback" not in text


def test_estimate_compare_shows_both_methods_and_the_break_even(
    alice: SlackUser, stack: Stack
) -> None:
    words = f"estimate {PTU_MODEL} ptu in=20k out=2k hours=10 hours_per_day=14 compare"
    body = ack_of(alice, words)
    text = "\n".join(all_texts(body))
    assert "```" not in text  # fields, not a code block
    command = parse(words)
    assert isinstance(command, EstimateCommand | DeployCommand)
    assert stack.deck is not None
    rows = stack.deck.estimate(command.spec).comparison
    assert rows is not None
    for row in rows:
        per_day = format_amount(Decimal(row["per_day"]), row["currency"])
        per_30 = format_amount(Decimal(row["per_30_days"]), row["currency"])
        assert f"*{row['billing']}*" in text and f"{per_day} per day · {per_30} per 30 days" in text
    assert "*upfront* :white_check_mark: cheaper\n$37.44 per day" in text
    assert "*Comparison: Upfront wins above 12 h/day*" in text
    assert "Upfront wins when the deployment runs more than 12.00 hours a day" in text
    assert "$31.20" in text  # billing rules example 1 is still the estimate itself


def test_compare_is_a_verb_of_its_own(alice: SlackUser) -> None:
    text = alice.answer(f"compare {MU_MODEL} mu units=1 hours_per_day=8")
    assert "*hourly* :white_check_mark: cheaper\n$320.00 per day" in text
    assert "Monthly wins when the deployment runs more than 15.67 hours a day" in text


def test_spend_and_comparisons_are_only_for_the_asker(
    alice: SlackUser, fake_slack: FakeSlack
) -> None:
    alice.answer("cost period=today")
    alice.answer(f"estimate {MU_MODEL} mu units=1 compare")
    assert fake_slack.calls("chat.postMessage") == []
    assert fake_slack.calls("chat.postEphemeral") == []  # the ack itself carried the answer
