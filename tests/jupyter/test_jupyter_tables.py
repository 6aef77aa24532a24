"""HTML of the approval, compare and cost views: half-up cents from decimal strings, all escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from modeldeck.billing.verdict import comparison_verdict
from modeldeck.domain import (
    Decision,
    DecisionOutcome,
    DeploySpec,
    Estimate,
    PolicyDecision,
    RequestRecord,
    RequestStatus,
)
from modeldeck.errors import ValidationFailed
from modeldeck.grammar import parse
from modeldeck.results import CostReport
from modeldeck_jupyter.compare_view import parse_hours_per_day
from modeldeck_jupyter.cost_view import cost_command, period_value
from modeldeck_jupyter.html import visible_text
from modeldeck_jupyter.tables import approval_html, comparison_html, outcome_html
from modeldeck_jupyter.tables import cost_html as _cost_html


def cost_html(data: dict[str, Any], target_label: str | None = None) -> str:
    """The Cost tab's HTML of a report that travelled as JSON."""
    return _cost_html(CostReport.model_validate({**data, "target": "all"}), target_label)


def verdict(rows: Any) -> tuple[str, str]:
    found = comparison_verdict(rows)
    return found.headline, found.detail


def approvals_needed(request: RequestRecord) -> tuple[int, int]:
    return request.approvals_so_far, request.approvals_required


NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def _cost_data(*amounts: str, total: str) -> dict[str, Any]:
    return {
        "period": {
            "name": "month",
            "start": "2026-03-01T00:00:00+08:00",
            "end": "2026-03-10T12:00:00+08:00",
        },
        "currency": "USD",
        "total": total,
        "deployments": [
            {
                "id": "dep_1",
                "deployed_model": "qwen3-32b-<b>",
                "model": "qwen3-32b",
                "plan": "mu",
                "billing": "hourly",
                "currency": "USD",
                "total": total,
                "lines": [
                    {"kind": "reserved", "description": f"line {i} <i>", "amount": a}
                    for i, a in enumerate(amounts)
                ],
            }
        ],
    }


def test_cost_amounts_round_half_up_from_the_decimal_strings() -> None:
    # float would give 2.67 for 2.675 (it is 2.67499999...) and banker's rounding 0.00 for 0.005
    markup = cost_html(_cost_data("2.675", "0.005", "1234.5", total="1237.18"))
    html = visible_text(markup)
    assert "$2.68" in html and "$0.01" in html and "$1,234.50" in html
    total = '<span class="modeldeck-dollar">$</span>1,237.18'
    assert f"<b class='modeldeck-cost-total-amount'>{total}</b>" in markup
    assert "subtotal" in html  # several lines: the deployment's own total as well
    assert "2026-03-01 00:00 → 2026-03-10 12:00" in html and "This month" in html


def test_cost_html_escapes_everything_it_shows() -> None:
    html = cost_html(_cost_data("1", total="1"), target_label="<script>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "qwen3-32b-&lt;b&gt;" in html and "line 0 &lt;i&gt;" in html


def test_cost_money_never_goes_through_a_float() -> None:
    data = _cost_data("1.10", total="1.10")
    data["deployments"][0]["total"] = 1.1
    with pytest.raises(TypeError):
        cost_html(data)


def test_no_deployments_and_nothing_billed() -> None:
    nothing = {"period": {"name": "month", "start": NOW, "end": NOW}, "currency": "USD"}
    assert "No deployments." in cost_html({**nothing, "total": "0", "deployments": []})
    empty = _cost_data(total="0")
    html = cost_html(empty)
    assert "nothing billed in this period" in html and "$0.00" in visible_text(html)


def test_period_picker_values_and_commands() -> None:
    assert period_value("7d", "ignored") == "7d"
    assert period_value("custom", " 2026-02 ") == "2026-02"
    assert cost_command(None, "today") == parse("cost all period=today")
    assert cost_command("dep_1a2b", "7d") == parse("cost dep_1a2b period=7d")
    with pytest.raises(ValidationFailed, match="YYYY-MM"):
        period_value("custom", "2026-00")
    with pytest.raises(ValidationFailed, match="not a deployment id"):
        cost_command("a b period=all", "month")


def _rows(hourly_day: str, prepaid_day: str, even: str | None, method: str = "upfront") -> Any:
    def row(billing: str, day: str) -> dict[str, Any]:
        return {
            "billing": billing,
            "hours_per_day": "14",
            "per_day": day,
            "per_30_days": str(Decimal(day) * 30),
            "currency": "USD",
            "cheaper": Decimal(day) < Decimal(prepaid_day if billing == "hourly" else hourly_day),
            "break_even_hours_per_day": even,
        }

    return [row("hourly", hourly_day), row(method, prepaid_day)]


@pytest.mark.parametrize(
    ("rows", "headline", "detail"),
    [
        (
            _rows("43.68", "37.44", "12.00"),
            "Upfront wins above 12 h/day",
            "At 14 h/day upfront is cheaper by $187.20 per 30 days.",
        ),
        (
            _rows("560", "626.666666", "15.67", "monthly"),
            "Monthly wins above 15.67 h/day",
            "At 14 h/day hourly is cheaper by $2,000.00 per 30 days.",
        ),
        (
            _rows("10", "10", "14.00"),
            "Upfront wins above 14 h/day",
            "At 14 h/day both cost the same.",
        ),
        (
            _rows("0", "5", None),
            "Hourly costs nothing here, so upfront never wins",
            "At 14 h/day hourly is cheaper by $150.00 per 30 days.",
        ),
        (
            _rows("1", "30", "30.00"),
            "Hourly wins at any hours a day (upfront would only win above 30 h/day)",
            "At 14 h/day hourly is cheaper by $870.00 per 30 days.",
        ),
    ],
)
def test_break_even_verdicts(rows: Any, headline: str, detail: str) -> None:
    assert verdict(rows) == (headline, detail)


def test_comparison_html_marks_the_cheaper_row() -> None:
    estimate = Estimate(
        model="qwen3-max",
        plan="ptu",
        mode="instruct",
        billing="hourly",
        total=Decimal("3.12"),
        period="1 hour",
        comparison=_rows("43.68", "37.44", "12.00"),
    )
    html = comparison_html(estimate)
    assert "Upfront wins above 12 h/day" in html
    assert "<tr class='modeldeck-compare-upfront' style='font-weight:bold;'>" in html
    assert "$43.68" in visible_text(html) and "$1,123.20" in visible_text(html)
    no_rows = comparison_html(estimate.model_copy(update={"comparison": []}))
    assert "No comparison" in no_rows


@pytest.mark.parametrize(("text", "hours"), [("14", "14"), (" 12.5h ", "12.5"), ("24", "24")])
def test_hours_a_day_are_exact(text: str, hours: str) -> None:
    assert parse_hours_per_day(text) == Decimal(hours)


def _request(**changes: Any) -> RequestRecord:
    base: dict[str, Any] = {
        "id": "req_1",
        "kind": "deploy",
        "status": RequestStatus.PENDING,
        "requester": "alice",
        "surface": "slack",
        "reason": "<b>launch</b>",
        "deploy": DeploySpec(model="qwen3-32b", plan="mu", units=2),
        "estimate": Estimate(
            model="qwen3-32b",
            plan="mu",
            mode="instruct",
            billing="hourly",
            total=Decimal("80.005"),
            period="1 hour",
            per_day=Decimal("1920.12"),
        ),
        "policy": PolicyDecision(
            auto_approve=False, approvers_required=2, rule="over $1000/day: two approvers"
        ),
        "created_at": NOW,
        "expires_at": NOW,
    }
    base.update(changes)
    return RequestRecord(**base)


def test_approval_counts_each_approver_once_and_never_the_requester() -> None:
    votes = [
        Decision(principal=p, surface="cli", verdict="approve", at=NOW)
        for p in ("alice", "bob", "bob")
    ]
    request = _request(decisions=votes)
    assert approvals_needed(request) == (1, 2)
    html = approval_html(request)
    assert "needs 1 more approval (1 of 2)" in html
    assert "$80.01" in visible_text(html) and "$1,920.12 per day" in visible_text(html)
    assert "&lt;b&gt;launch&lt;/b&gt;" in html and "<b>launch</b>" not in html
    assert "2026-03-01 10:00 (UTC+8)" in html
    assert approvals_needed(_request(policy=PolicyDecision(auto_approve=False, rule="x"))) == (
        0,
        1,
    )


def test_outcomes_keep_the_decks_message() -> None:
    outcome = DecisionOutcome(
        request=_request(), outcome="already_decided", message="req_1 was already <rejected>."
    )
    html = outcome_html(outcome)
    assert "modeldeck-outcome-already_decided" in html
    assert "req_1 was already &lt;rejected&gt;." in html
