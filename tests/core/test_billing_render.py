"""Human text of estimates and cost reports: what Slack, the CLI and notebooks show."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from modeldeck.billing import (
    estimate,
    render_estimate_text,
)
from modeldeck.catalog import load_catalog
from modeldeck.domain import DeploySpec
from modeldeck.timeutil import BEIJING

CATALOG = load_catalog()
MAX = "qwen3-max-2025-09-23"


def test_no_duration_shows_per_hour_day_and_30_days() -> None:
    est = estimate(DeploySpec(model=MAX, plan="ptu", input_tpm=20_000, output_tpm=2_000), CATALOG)
    assert (est.per_hour, est.per_day, est.per_30_days) == (
        Decimal("3.12"), Decimal("74.88"), Decimal("2246.40"),
    )  # fmt: skip
    assert est.total == Decimal("3.12") and "no duration given" in est.period
    text = render_estimate_text(est)
    assert "per hour $3.12, per day $74.88, per 30 days $2,246.40" in text
    assert "2 × $1.11 per 10k input TPM·hour × 1 hour = $2.22" in text


def test_upfront_and_monthly_defaults() -> None:
    up = estimate(DeploySpec(model=MAX, plan="ptu", billing="upfront", input_tpm=10_000), CATALOG)
    assert up.total == up.per_day == Decimal("13.32") and up.period.startswith("1 day")
    monthly = estimate(
        DeploySpec(model="qwen3-14b", plan="mu", billing="monthly", units=2), CATALOG
    )
    assert monthly.total == monthly.per_30_days == Decimal("37600")
    assert monthly.period.startswith("1 month")


def test_partial_month_billed_per_day() -> None:
    est = estimate(
        DeploySpec(model="qwen3-vl-8b-instruct", plan="mu", billing="monthly", units=1,
                   days=45),
        CATALOG,
    )  # fmt: skip
    assert est.total == Decimal("14100")  # 45 x 9400 / 30
    assert "× 45 days ÷ 30" in render_estimate_text(est)


def test_timeline_and_cancellation_in_text() -> None:
    spec = DeploySpec(
        model=MAX, plan="ptu", billing="upfront", input_tpm=10_000, days=3,
        start=datetime(2026, 3, 1, 22, 30, tzinfo=BEIJING), cancel_after_seconds=86_400 + 1,
    )  # fmt: skip
    text = render_estimate_text(estimate(spec, CATALOG))
    assert "expires   2026-03-04 23:59:59 (Beijing, UTC+8) (ordered at 22:00 or later" in text
    assert "stops     2026-03-05 01:59:59" in text and "released  2026-03-05 15:59:59" in text
    # 2 days used x 13.32 x 1.2 = 31.968 settled of 39.96 paid.
    assert "$31.97 settled, $7.99 refunded (of $39.96 paid)" in text


def test_comparison_text_and_break_even() -> None:
    spec = DeploySpec(model="qwen3-32b", plan="mu", units=1, hours_per_day=Decimal(20))
    est = estimate(spec, CATALOG)
    assert est.comparison is not None
    rows = {r["billing"]: r for r in est.comparison}
    assert rows["hourly"]["per_day"] == "800" and rows["monthly"]["cheaper"] is True
    assert rows["monthly"]["break_even_hours_per_day"] == "15.67"  # 626.67 / 40
    text = render_estimate_text(est)
    assert "Monthly wins when the deployment runs more than 15.67 hours a day" in text
    assert "monthly is cheaper by $5,200.00 per 30 days" in text
