"""Shaped `/deck` answers: valid Block Kit for any input, money in dollars rounded half-up."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modeldeck.domain import (
    Decision,
    DecisionOutcome,
    DeploySpec,
    Estimate,
    PolicyDecision,
    RequestRecord,
    RequestStatus,
)
from modeldeck.results import CostReport
from modeldeck_slack.answers import (
    QUEUE_SHOWN,
    approvals_card,
    cost_card,
    cost_table,
    decision_card,
)
from tests.slack.fake_slack import _check_blocks

NOW = datetime(2025, 3, 1, 4, 30, tzinfo=UTC)  # 12:30 in Beijing


def request(n: int = 1, **changes: Any) -> RequestRecord:
    base: dict[str, Any] = {
        "id": f"req_{n:04d}",
        "kind": "deploy",
        "status": RequestStatus.PENDING,
        "requester": "slack:U0ALICE",
        "surface": "slack",
        "deploy": DeploySpec(model="qwen3-32b", plan="mu", units=1),
        "estimate": Estimate(
            model="qwen3-32b",
            plan="mu",
            mode="instruct",
            billing="hourly",
            total=Decimal("40.005"),
            period="1 hour",
        ),
        "policy": PolicyDecision(auto_approve=False, approvers_required=2, rule="two approvers"),
        "created_at": NOW,
        "expires_at": NOW,
    }
    base.update(changes)
    return RequestRecord(**base)


def cost_data(lines: list[tuple[str, str]], total: str, deployments: int = 1) -> dict[str, Any]:
    """The JSON a cost report travels as (what `CostReport.from_data` reads)."""
    return {
        "period": {
            "name": "month",
            "start": "2025-03-01T00:00:00+08:00",
            "end": "2025-03-10T12:00:00+08:00",
        },
        "currency": "USD",
        "total": total,
        "deployments": [
            {
                "id": f"dep_{d}",
                "deployed_model": f"qwen3-32b-{d}",
                "model": "qwen3-32b",
                "plan": "mu",
                "billing": "hourly",
                "currency": "USD",
                "total": total,
                "lines": [
                    {"kind": kind, "description": f"line {i}", "amount": amount}
                    for i, (kind, amount) in enumerate(lines)
                ],
            }
            for d in range(deployments)
        ],
    }


def report(data: dict[str, Any], target: str | None = None) -> CostReport:
    return CostReport.model_validate({**data, "target": target or "all"})


def test_cost_amounts_are_dollars_rounded_half_up_and_right_aligned() -> None:
    data = cost_data([("reserved", "2.675"), ("overflow", "0.005"), ("refund", "-1234.5")], "1")
    table = cost_table(report(data)).splitlines()
    assert table[0].split() == ["deployment", "item", "amount", "detail"]
    amounts = [line[: table[0].index("amount") + len("amount")].split()[-1] for line in table[2:]]
    # a float would give 2.67 for 2.675; banker's rounding 0.00 for 0.005
    assert amounts == ["$2.68", "$0.01", "-$1,234.50", "$1.00"]
    ends = {line.index(a) + len(a) for line, a in zip(table[2:], amounts, strict=True)}
    assert len(ends) == 1  # right-aligned
    assert "subtotal" in table[-1]


def test_cost_card_has_period_table_and_total() -> None:
    card = cost_card(report(cost_data([("reserved", "10.005")], "10.005"), target="qwen3-32b-0"))
    blocks = card.block_dicts()
    _check_blocks(blocks, 50)
    assert blocks[0]["text"]["text"].startswith("*Spend this month*, `qwen3-32b-0`\n")
    assert "2025-03-01 00:00 Beijing → 2025-03-10 12:00 Beijing" in blocks[0]["text"]["text"]
    assert blocks[1]["text"]["text"].startswith("```")
    assert blocks[2]["text"]["text"] == "*Total: $10.01*"
    assert card.text == "Spend this month, qwen3-32b-0: $10.01"


def test_cost_money_never_goes_through_a_float() -> None:
    data = cost_data([("reserved", "1")], "1")
    data["deployments"][0]["total"] = 1.1
    with pytest.raises(TypeError):
        report(data)


def test_a_huge_cost_table_is_cut_within_slacks_limits() -> None:
    data = cost_data([("reserved", "1.5")] * 40, "60", deployments=40)
    for dep in data["deployments"]:
        for line in dep["lines"]:
            line["description"] = "Reserved 1 unit(s) " * 12
    blocks = cost_card(report(data)).block_dicts()
    _check_blocks(blocks, 50)
    assert len(blocks) == 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if "text" in b)
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "… table cut" in shown and "*Total: $60.00*" in shown


def test_the_queue_counts_each_approver_once_never_the_requester() -> None:
    votes = [
        Decision(principal=p, surface="slack", verdict="approve", at=NOW)
        for p in ("slack:U0ALICE", "slack:U0BOB", "slack:U0BOB")
    ]
    pending = request(decisions=votes)
    assert (pending.approvals_so_far, pending.approvals_required) == (1, 2)
    text = json.dumps(approvals_card([pending]).block_dicts())
    assert "needs 1 more approval (1 of 2)" in text
    assert "$40.01 for 1 hour" in text and "<@U0ALICE>" in text


def test_a_long_queue_is_capped_with_a_pointer_to_the_rest() -> None:
    queue = [request(n) for n in range(40)]
    blocks = approvals_card(queue).block_dicts()
    _check_blocks(blocks, 50)
    assert len([b for b in blocks if b["type"] == "actions"]) == QUEUE_SHOWN
    assert f"… and {40 - QUEUE_SHOWN} more" in json.dumps(blocks, ensure_ascii=False)


def test_decision_card_escapes_and_reports_the_card() -> None:
    rejected = request(
        status=RequestStatus.REJECTED,
        decisions=[
            Decision(
                principal="slack:U0BOB",
                surface="slack",
                verdict="reject",
                reason="<!here> no",
                at=NOW,
            )
        ],
        refs={"slack_channel": "C0DECK", "slack_ts": "1.2"},
    )
    outcome = DecisionOutcome(request=rejected, outcome="rejected", message="req_0001 rejected.")
    blocks = decision_card(outcome, card_updated=True).block_dicts()
    _check_blocks(blocks, 50)
    head = blocks[0]["text"]["text"]
    assert head.startswith(":x: *req_0001 rejected.*")
    assert "<@U0BOB> rejected via slack" in head and "&lt;!here&gt; no" in head
    assert "Its card in <#C0DECK> is updated." in head
    quiet = decision_card(outcome).block_dicts()[0]["text"]["text"]
    assert "Its card" not in quiet


@settings(max_examples=60, deadline=None)
@given(
    reason=st.text(max_size=3000),
    requester=st.text(min_size=1, max_size=300),
    rule=st.text(min_size=1, max_size=2000),
    count=st.integers(min_value=1, max_value=30),
)
def test_any_queue_gives_valid_blocks(reason: str, requester: str, rule: str, count: int) -> None:
    policy = PolicyDecision(auto_approve=False, rule=rule)
    queue = [request(n, reason=reason, requester=requester, policy=policy) for n in range(count)]
    card = approvals_card(queue)
    blocks = card.block_dicts()  # slack_sdk raises on invalid blocks
    _check_blocks(blocks, 50)
    assert len(card.text) <= 3000
    assert "<!channel>" not in json.dumps(blocks).replace("&lt;!channel&gt;", "")


@settings(max_examples=40, deadline=None)
@given(
    description=st.text(max_size=4000),
    kind=st.sampled_from(["reserved", "upfront_order", "refund", "overflow"]),
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=18).map(str),
)
def test_any_cost_data_gives_valid_blocks(description: str, kind: str, amount: str) -> None:
    data = cost_data([(kind, amount)], amount)
    data["deployments"][0]["lines"][0]["description"] = description
    blocks = cost_card(report(data)).block_dicts()
    _check_blocks(blocks, 50)
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if "text" in b)
