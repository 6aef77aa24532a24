"""Forecasts: spend to date to the cent, reserved spend to come exactly, overflow projected, and
budget aggregation by scope (worked examples of billing-rules.md carried to a month)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from modeldeck.billing.accrual import (
    CapacityEvent,
    DeploymentHistory,
    OverflowCall,
    PrepaidOrder,
    accrue,
)
from modeldeck.billing.forecast import cumulative_spend, forecast, forecast_budgets, run_state
from modeldeck.billing.forecast_text import render_budget_text, render_forecast_text, spend_chart
from modeldeck.budgets import Budget, BudgetTarget
from modeldeck.catalog import Catalog, load_catalog
from modeldeck.money import round_cents
from modeldeck.timeutil import BEIJING

MARCH = (datetime(2026, 3, 1, tzinfo=BEIJING), datetime(2026, 4, 1, tzinfo=BEIJING))
NOW = datetime(2026, 3, 11, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def ptu_hourly(
    created: datetime = MARCH[0], calls: list[OverflowCall] | None = None
) -> DeploymentHistory:
    return DeploymentHistory(
        deployment_id="dep_max",
        model="qwen3-max-2025-09-23",
        plan="ptu",
        events=[CapacityEvent(at=created, kind="created", input_tpm=20_000, output_tpm=2_000)],
        calls=calls or [],
    )


def test_hourly_ptu_month_is_exact(catalog: Catalog) -> None:
    f = forecast(ptu_hourly(), MARCH, NOW, catalog)
    # 3.12 per hour (billing-rules example 1): 10 days done, 21 days to come.
    assert f.to_date == Decimal("3.12") * 24 * 10
    assert f.reserved_to_come == Decimal("3.12") * 24 * 21
    assert round_cents(f.total) == Decimal("2321.28")
    assert f.overflow_to_come == 0 and f.state == "running"
    assert any("billed hourly until 2026-04-01T00:00:00+08:00" in a for a in f.assumptions)


def test_to_date_plus_to_come_equals_the_accrual_of_the_whole_period(catalog: Catalog) -> None:
    # Started at an odd second: minutes are anchored at the start, so the split at `now` must
    # neither lose nor double a minute.
    history = ptu_hourly(created=datetime(2026, 3, 4, 7, 13, 29, tzinfo=BEIJING))
    for now in (
        NOW,
        NOW + timedelta(seconds=17),
        datetime(2026, 3, 31, 23, 59, 59, tzinfo=BEIJING),
    ):
        f = forecast(history, MARCH, now, catalog)
        assert f.total == accrue(history, *MARCH, catalog).total


def test_overflow_projected_from_the_last_24_hours(catalog: Catalog) -> None:
    calls = [
        OverflowCall(at=NOW - timedelta(hours=h), input_tokens=1_000, output_tokens=500)
        for h in (1, 2, 3)
    ] + [OverflowCall(at=NOW - timedelta(days=3), input_tokens=1_000, output_tokens=500)]
    f = forecast(ptu_hourly(calls=calls), MARCH, NOW, catalog)
    # Example 7: three calls cost $0.0126; 24 h window, 21 days (504 h) left.
    assert f.overflow_in_window == Decimal("0.0126")
    assert f.overflow_to_come == Decimal("0.0126") * 21
    assert f.to_date_by_kind["overflow"] == Decimal("0.0168")  # all four calls to date
    assert any("rate of the last 24 h" in a for a in f.assumptions)


def test_overflow_window_is_clipped_to_the_deployments_life(catalog: Catalog) -> None:
    created = NOW - timedelta(hours=6)
    calls = [OverflowCall(at=NOW - timedelta(hours=1), input_tokens=1_000, output_tokens=500)]
    f = forecast(
        ptu_hourly(created=created, calls=calls), MARCH, NOW, catalog, window=timedelta(hours=24)
    )
    assert f.overflow_window_hours == 6
    assert f.overflow_to_come == Decimal("0.0042") * 504 / 6


def test_stopped_and_unpublished_have_nothing_to_come(catalog: Catalog) -> None:
    history = ptu_hourly(
        calls=[OverflowCall(at=NOW - timedelta(hours=30), input_tokens=1, output_tokens=1)]
    )
    stopped = history.model_copy(
        update={
            "events": [*history.events, CapacityEvent(at=NOW - timedelta(days=1), kind="stopped")]
        }
    )
    f = forecast(stopped, MARCH, NOW, catalog)
    assert (f.state, f.reserved_to_come, f.overflow_to_come) == ("stopped", 0, 0)
    assert f.to_date_by_kind["reserved"] == Decimal("3.12") * 24 * 9
    gone = history.model_copy(
        update={
            "events": [
                *history.events,
                CapacityEvent(at=NOW - timedelta(days=1), kind="unpublished"),
            ]
        }
    )
    assert forecast(gone, MARCH, NOW, catalog).state == "ended"
    assert run_state(gone, MARCH[0] + timedelta(hours=1)) == "running"


def upfront(days: int = 7) -> DeploymentHistory:
    ordered = datetime(2026, 3, 1, 10, tzinfo=BEIJING)
    return DeploymentHistory(
        deployment_id="dep_up",
        model="qwen3-max-2025-09-23",
        plan="ptu",
        billing="upfront",
        events=[CapacityEvent(at=ordered, kind="created", input_tpm=20_000, output_tpm=2_000)],
        orders=[
            PrepaidOrder(
                ordered_at=ordered,
                days=days,
                input_tpm=20_000,
                output_tpm=2_000,
                paid=Decimal("262.08"),
            )
        ],
    )


def test_prepaid_orders_are_paid_and_renewals_only_when_assumed(catalog: Catalog) -> None:
    f = forecast(upfront(), MARCH, NOW, catalog)
    assert f.to_date == Decimal("262.08") and f.reserved_to_come == 0  # example 2, paid up front
    assert any("No auto-renewal" in a for a in f.assumptions)
    renewing = forecast(upfront(), MARCH, NOW, catalog, auto_renew=True)
    # Valid to 03-07 23:59:59; renewals at 03-07 (before now: already due), 03-14, 03-21, 03-28.
    assert renewing.reserved_to_come == Decimal("262.08") * 3
    assert sum("renewal of 7 day(s)" in a for a in renewing.assumptions) == 3


def test_mu_monthly_package_paid_once(catalog: Catalog) -> None:
    ordered = datetime(2026, 3, 1, 9, tzinfo=BEIJING)
    history = DeploymentHistory(
        deployment_id="dep_mu",
        model="qwen3-vl-8b-instruct",
        plan="mu",
        billing="monthly",
        events=[CapacityEvent(at=ordered, kind="created", units=1)],
        orders=[PrepaidOrder(ordered_at=ordered, days=30, units=1)],
    )
    f = forecast(history, MARCH, NOW, catalog)
    assert f.to_date == Decimal(9400) and f.to_come == 0  # example 4


def test_budgets_add_up_the_deployments_their_scope_matches(catalog: Catalog) -> None:
    search = BudgetTarget(id="dep_max", tags={"team": "search"})
    ads = BudgetTarget(id="dep_up", tags={"team": "ads"})
    budgets = [
        Budget(name="all", scope="workspace", amount_usd=Decimal(2500)),
        Budget(
            name="search",
            scope="tag:team=search",
            amount_usd=Decimal(1000),
            thresholds=[50, 70, 100],
        ),
        Budget(name="up", scope="deployment:dep_up", amount_usd=Decimal(300)),
    ]
    out = forecast_budgets(budgets, [(search, ptu_hourly()), (ads, upfront())], NOW, catalog)
    everything, team, one = out
    assert everything.deployments == ["dep_max", "dep_up"]
    assert everything.to_date == Decimal("748.80") + Decimal("262.08")
    assert everything.total == Decimal("2321.28") + Decimal("262.08")
    assert everything.overrun  # 2,583.36 > 2,500
    assert team.deployments == ["dep_max"]
    assert team.crossed == [50, 70]  # 748.80 of 1,000
    assert team.overrun
    assert one.deployments == ["dep_up"] and not one.overrun and one.crossed == [50, 80]
    text = render_budget_text(out)
    assert "OVERRUN" in text and "tag:team=search" in text and "$748.80 (74.88%)" in text


def test_text_and_chart_of_a_forecast(catalog: Catalog) -> None:
    f = forecast(ptu_hourly(), MARCH, NOW, catalog)
    text = render_forecast_text([f])
    assert "dep_max" in text and "$748.80" in text and "$1,572.48" in text and "$2,321.28" in text
    assert "Assumptions:" in text
    budget = Budget(name="all", amount_usd=Decimal(2000))
    item = forecast_budgets([budget], [(BudgetTarget(id="dep_max"), ptu_hourly())], NOW, catalog)[0]
    points = cumulative_spend([ptu_hourly()], MARCH[0], NOW, catalog)
    assert len(points) == 11 and points[-1][1] == item.to_date
    chart = spend_chart(item, points)
    assert chart.forecast[-1].amount == item.total and chart.budget == Decimal(2000)
