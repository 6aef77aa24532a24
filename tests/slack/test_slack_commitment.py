"""Truthful cards: the commitment a user would feel, and the Approve dialog repeats it.

Every card is serialised with slack_sdk's models (`to_dict()` validates lengths and shapes).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from modeldeck.domain import (
    DeploySpec,
    Estimate,
    LimitsSpec,
    PolicyDecision,
    RequestRecord,
    RequestStatus,
    ScaleSpec,
)
from modeldeck_slack.blocks import APPROVE_ACTION, Before, request_card

NOW = datetime(2025, 3, 1, 4, 30, tzinfo=UTC)


def hourly(per_hour: str, **more: Any) -> Estimate:
    rate = Decimal(per_hour)
    base: dict[str, Any] = {
        "model": "qwen3-32b",
        "plan": "mu",
        "mode": "instruct",
        "billing": "hourly",
        "total": rate,
        "period": "1 hour (no duration given)",
        "per_hour": rate,
        "per_day": rate * 24,
        "per_30_days": rate * 720,
    }
    base.update(more)
    return Estimate(**base)


def request(**changes: Any) -> RequestRecord:
    base: dict[str, Any] = {
        "id": "req_1",
        "kind": "deploy",
        "status": RequestStatus.PENDING,
        "requester": "alice",
        "surface": "slack",
        "deploy": DeploySpec(model="qwen3-32b", plan="mu", units=1),
        "estimate": hourly("40"),
        "policy": PolicyDecision(auto_approve=False, approvers_required=1, rule="1 approver"),
        "created_at": NOW,
        "expires_at": NOW,
    }
    base.update(changes)
    return RequestRecord(**base)


def approve_dialog(blocks: list[dict[str, Any]]) -> str:
    button = next(
        el
        for b in blocks
        if b["type"] == "actions"
        for el in b["elements"]
        if el["action_id"] == APPROVE_ACTION
    )
    return str(button["confirm"]["text"]["text"])


def test_open_ended_hourly_shows_per_day_and_per_30_days_never_one_hour() -> None:
    card = request_card(request())
    blocks = card.block_dicts()
    text = json.dumps(blocks, ensure_ascii=False)
    assert "for 1 hour" not in text and "for 1 hour" not in card.text
    assert "$960.00 per day" in text and "$28,800.00 per 30 days" in text
    assert "until someone unpublishes it" in text
    dialog = approve_dialog(blocks)
    assert "$960.00 per day" in dialog and "$28,800.00 per 30 days" in dialog
    assert "$960.00 per day" in card.text


def test_hourly_with_a_duration_shows_the_whole_span() -> None:
    est = hourly("40", total=Decimal("400"), period="10 hours")
    spec = DeploySpec(model="qwen3-32b", plan="mu", units=1, hours=Decimal(10))
    blocks = request_card(request(estimate=est, deploy=spec)).block_dicts()
    assert "$400.00 for 10 hours" in json.dumps(blocks, ensure_ascii=False)
    assert "$400.00 for 10 hours" in approve_dialog(blocks)


def test_upfront_shows_the_whole_order() -> None:
    est = Estimate(
        model="qwen3-32b",
        plan="mu",
        mode="instruct",
        billing="upfront",
        total=Decimal("12000"),
        period="1 month",
    )
    spec = DeploySpec(model="qwen3-32b", plan="mu", units=1, billing="upfront", months=1)
    blocks = request_card(request(estimate=est, deploy=spec)).block_dicts()
    assert "$12,000.00 for the whole order (1 month), paid upfront" in json.dumps(
        blocks, ensure_ascii=False
    )
    assert "$12,000.00 for the whole order" in approve_dialog(blocks)


def test_scale_shows_current_to_new_and_the_difference() -> None:
    scale = request(
        kind="scale",
        deploy=None,
        scale=ScaleSpec(deployment="dep_1", units=3),
        deployment_id="dep_1",
        estimate=hourly("120"),
    )
    before = Before(capacity="1 unit(s)", per_day=Decimal(960))
    blocks = request_card(scale, before=before).block_dicts()
    text = json.dumps(blocks, ensure_ascii=False)
    assert "1 unit(s) → 3 unit(s)" in text
    assert "$960.00 → $2,880.00 per day (+$1,920.00)" in text
    assert "+$1,920.00 per day" in approve_dialog(blocks)


def test_limits_show_current_to_new() -> None:
    limits = request(
        kind="limits",
        deploy=None,
        limits=LimitsSpec(deployment="dep_1", rpm_limit=100, tpm_limit=None),
        deployment_id="dep_1",
        estimate=None,
    )
    before = Before(capacity="1 unit(s)", rpm_limit=50, tpm_limit=20000)
    text = json.dumps(request_card(limits, before=before).block_dicts(), ensure_ascii=False)
    assert "RPM 50 → 100" in text and "TPM 20,000 (unchanged)" in text
    assert "no change in cost" in text
