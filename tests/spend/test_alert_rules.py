"""Alert rules: each rule fires when it should, not before, with a stable dedup key."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from modeldeck.alerts import AlertSettings
from modeldeck.alerts.models import DeploymentState, OrderState, OverflowWindow
from modeldeck.alerts.rules import evaluate
from modeldeck.billing.accrual import Capacity
from modeldeck.billing.forecast import BudgetForecast
from modeldeck.billing.timeline import order_timeline
from modeldeck.budgets import Budget, BudgetTarget
from modeldeck.timeutil import BEIJING

NOW = datetime(2026, 3, 11, 14, 30, tzinfo=BEIJING)
SETTINGS = AlertSettings()


def budget_forecast(to_date: str, to_come: str, *, hard: bool = False) -> BudgetForecast:
    budget = Budget(name="llm-team", amount_usd=Decimal(1000), hard=hard)
    start, end = budget.bounds(NOW)
    return BudgetForecast(
        budget=budget,
        period_start=start,
        period_end=end,
        now=NOW,
        deployments=["dep_1"],
        to_date=Decimal(to_date),
        reserved_to_come=Decimal(to_come),
        overflow_to_come=Decimal(0),
    )


def kinds(**inputs) -> list[str]:  # type: ignore[no-untyped-def]
    now = inputs.pop("now", NOW)
    settings = inputs.pop("settings", SETTINGS)
    return [a.kind for a in evaluate(now, settings, **inputs)]


def test_budget_threshold_highest_crossed_and_forecast_overrun() -> None:
    assert kinds(budgets=[budget_forecast("499.99", "400")]) == []
    assert kinds(budgets=[budget_forecast("500", "400")]) == ["budget_threshold:50"]
    alerts = evaluate(NOW, SETTINGS, budgets=[budget_forecast("850", "200", hard=True)])
    assert [a.kind for a in alerts] == ["budget_threshold:80", "forecast_overrun"]
    threshold, overrun = alerts
    assert threshold.key == "budget_threshold:80|budget:llm-team|2026-03-01..2026-04-01"
    assert "$850.00 spent of $1,000.00 (85.00%)" in threshold.text
    assert "hard budget" in threshold.text and "$1,050.00" in overrun.title
    assert kinds(budgets=[budget_forecast("1000", "0")]) == ["budget_threshold:100"]


def window(cost: str, overflow_in: int, total_in: int) -> OverflowWindow:
    return OverflowWindow(
        deployment="dep_1",
        start=NOW - timedelta(hours=1),
        end=NOW,
        input_tokens=total_in,
        overflow_input_tokens=overflow_in,
        overflow_cost=Decimal(cost),
    )


def test_overflow_spend_and_share_in_the_last_hour() -> None:
    assert kinds(overflow=[window("10", 200, 1000)]) == []  # at the thresholds: not above
    assert kinds(overflow=[window("10.01", 0, 1000)]) == ["overflow_spend"]
    alerts = evaluate(NOW, SETTINGS, overflow=[window("0.5", 201, 1000)])
    assert [a.kind for a in alerts] == ["overflow_share"]
    assert alerts[0].key == "overflow_share|deployment:dep_1|2026-03-11T14"  # per clock hour
    assert kinds(overflow=[window("0", 0, 0)]) == []
    strict = AlertSettings(overflow_usd=Decimal(0), overflow_share_percent=1)
    assert kinds(overflow=[window("0.01", 20, 1000)], settings=strict) == [
        "overflow_spend",
        "overflow_share",
    ]


def order(ordered_at: datetime, days: int = 1, *, auto_renew: bool = False) -> OrderState:
    t = order_timeline(ordered_at, days)
    return OrderState(
        order_id="ord_1",
        deployment_id="dep_1",
        expires_at=t.expires_at,
        stops_at=t.stops_at,
        released_at=t.released_at,
        auto_renew=auto_renew,
    )


def test_upfront_expiry_24h_then_2h_then_stopped_then_released() -> None:
    o = order(datetime(2026, 3, 1, 10, tzinfo=BEIJING))  # example 5: valid to 03-01 23:59:59
    at = lambda text: datetime.fromisoformat(text).replace(tzinfo=BEIJING)  # noqa: E731
    assert kinds(orders=[o], now=at("2026-02-28T23:59:58")) == []
    assert kinds(orders=[o], now=at("2026-03-01T10:00:00")) == ["expiry:24h"]
    assert kinds(orders=[o], now=at("2026-03-01T21:59:59")) == ["expiry:2h"]
    alerts = evaluate(at("2026-03-02T02:00:00"), SETTINGS, orders=[o])
    assert [a.kind for a in alerts] == ["stopped"]
    assert "2026-03-02T15:59:59+08:00" in alerts[0].text  # released 14 h after stopping
    assert kinds(orders=[o], now=at("2026-03-02T16:00:00")) == ["released"]
    assert kinds(orders=[o], now=at("2026-03-04T16:00:00")) == []  # long past: not raised late
    renewing = order(datetime(2026, 3, 1, 10, tzinfo=BEIJING), auto_renew=True)
    assert kinds(orders=[renewing], now=at("2026-03-01T22:00:00")) == []


def state(status: str, **extra) -> DeploymentState:  # type: ignore[no-untyped-def]
    return DeploymentState(
        target=BudgetTarget(id="dep_1", deployed_model="qwen3-max-abc"),
        status=status,
        plan="ptu",
        created_at=NOW - timedelta(days=2),
        **{"last_call_at": NOW - timedelta(minutes=5), **extra},
    )


def test_stopped_arrears_mismatch_and_idle() -> None:
    assert kinds(states=[state("RUNNING")]) == []
    assert kinds(states=[state("STOPPED", status_since=NOW - timedelta(hours=1))]) == ["stopped"]
    arrears = evaluate(
        NOW, SETTINGS, states=[state("ARREARS_DOWN", arrears_since=NOW - timedelta(hours=3))]
    )
    assert [a.kind for a in arrears] == ["arrears"]
    assert arrears[0].data["release_at"] == "2026-03-12T11:30:00+08:00"  # kept 24 h
    mismatch = state(
        "RUNNING",
        recorded=Capacity(input_tpm=20_000, output_tpm=2_000),
        observed=Capacity(input_tpm=10_000, output_tpm=2_000),
    )
    assert kinds(states=[mismatch]) == ["capacity_mismatch"]
    idle = state("RUNNING", last_call_at=NOW - timedelta(hours=6))
    alerts = evaluate(NOW, SETTINGS, states=[idle])
    assert [a.kind for a in alerts] == ["idle"]
    assert alerts[0].key == "idle|deployment:dep_1|2026-03-11T08:30:00+08:00"
    assert kinds(states=[state("RUNNING", last_call_at=NOW - timedelta(hours=5, minutes=59))]) == []
    assert (
        kinds(states=[state("STOPPED", last_call_at=NOW - timedelta(days=1))]) == []
    )  # not reserved
    never = state("RUNNING", last_call_at=None)  # never called since creation 2 days ago
    assert kinds(states=[never]) == ["idle"]


def test_an_order_stop_is_not_reported_twice() -> None:
    o = order(datetime(2026, 3, 10, 10, tzinfo=BEIJING))
    at = datetime(2026, 3, 11, 3, tzinfo=BEIJING)
    stopped = state("STOPPED", status_since=at - timedelta(minutes=30))
    assert kinds(orders=[o], states=[stopped], now=at) == ["stopped"]


def test_keys_are_stable_across_evaluations() -> None:
    first = evaluate(NOW, SETTINGS, budgets=[budget_forecast("850", "0")])
    later = evaluate(NOW + timedelta(hours=5), SETTINGS, budgets=[budget_forecast("870", "0")])
    assert [a.key for a in first] == [a.key for a in later]
