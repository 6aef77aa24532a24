"""The eight worked examples of billing-rules.md, verbatim, through the public API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from modeldeck.billing import estimate, price_overflow_call, render_estimate_text
from modeldeck.catalog import Catalog, load_catalog
from modeldeck.domain import DeploySpec
from modeldeck.errors import PriceNotListed
from modeldeck.money import round_cents
from modeldeck.timeutil import BEIJING


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_example_1_ptu_hourly(catalog: Catalog) -> None:
    """PTU hourly, qwen3-max-2025-09-23, 20,000 in / 2,000 out TPM, 10 hours: $31.20."""
    spec = DeploySpec(
        model="qwen3-max-2025-09-23", plan="ptu", billing="hourly",
        input_tpm=20_000, output_tpm=2_000, hours=Decimal(10),
    )  # fmt: skip
    est = estimate(spec, catalog)
    assert est.per_hour == Decimal("3.12")  # 2 x 1.11 + 2 x 0.45
    assert est.total == Decimal("31.20")
    assert [line.amount for line in est.lines] == [Decimal("22.20"), Decimal("9.00")]
    assert [line.rate for line in est.lines] == [Decimal("1.11"), Decimal("0.45")]
    assert "$31.20" in render_estimate_text(est)


def test_example_2_ptu_upfront_7_days(catalog: Catalog) -> None:
    """Same capacity, upfront, 7 days: 37.44 per day, $262.08."""
    spec = DeploySpec(
        model="qwen3-max-2025-09-23", plan="ptu", billing="upfront",
        input_tpm=20_000, output_tpm=2_000, days=7,
    )  # fmt: skip
    est = estimate(spec, catalog)
    assert est.per_day == Decimal("37.44")
    assert est.total == Decimal("262.08")
    assert "$262.08" in render_estimate_text(est)


def test_example_3_mu_hourly_per_started_minute(catalog: Catalog) -> None:
    """MU hourly, qwen3-32b, 2 units, 90 min 30 s -> 91 billed minutes -> $121.33."""
    spec = DeploySpec(model="qwen3-32b", plan="mu", units=2, duration_seconds=90 * 60 + 30)
    est = estimate(spec, catalog)
    # Not rounded to cents: 7280 / 60 carried to 18 decimal places.
    assert est.total == Decimal("121.333333333333333333")
    assert round_cents(est.total) == Decimal("121.33")
    assert "91 minutes" in est.period
    assert "$121.33" in render_estimate_text(est)


def test_example_4_mu_monthly(catalog: Catalog) -> None:
    """MU monthly, qwen3-vl-8b-instruct, 1 unit, one month: $9,400.00."""
    spec = DeploySpec(model="qwen3-vl-8b-instruct", plan="mu", billing="monthly", units=1, months=1)
    est = estimate(spec, catalog)
    assert est.total == Decimal("9400")
    assert "$9,400.00" in render_estimate_text(est)


@pytest.mark.parametrize(
    ("ordered", "expires", "stops", "released"),
    [
        (
            datetime(2026, 3, 1, 10, 0),
            datetime(2026, 3, 1, 23, 59, 59),
            datetime(2026, 3, 2, 1, 59, 59),
            datetime(2026, 3, 2, 15, 59, 59),
        ),
        (
            datetime(2026, 3, 1, 22, 30),
            datetime(2026, 3, 2, 23, 59, 59),
            datetime(2026, 3, 3, 1, 59, 59),
            datetime(2026, 3, 3, 15, 59, 59),
        ),
    ],
)
def test_example_5_upfront_timeline(
    catalog: Catalog, ordered: datetime, expires: datetime, stops: datetime, released: datetime
) -> None:
    """A 1-day upfront order placed at 10:00 / 22:30 Beijing time."""
    spec = DeploySpec(
        model="qwen3-max-2025-09-23", plan="ptu", billing="upfront",
        input_tpm=20_000, output_tpm=2_000, days=1, start=ordered.replace(tzinfo=BEIJING),
    )  # fmt: skip
    timeline = estimate(spec, catalog).timeline
    assert timeline is not None
    assert timeline.expires_at == expires.replace(tzinfo=BEIJING)
    assert timeline.stops_at == stops.replace(tzinfo=BEIJING)
    assert timeline.released_at == released.replace(tzinfo=BEIJING)
    assert timeline.extra_day is (ordered.hour >= 22)


def test_example_5_timeline_from_another_time_zone(catalog: Catalog) -> None:
    """The calendar is Beijing's whatever zone the order time is given in (14:30 UTC = 22:30)."""
    spec = DeploySpec(
        model="qwen3-max-2025-09-23", plan="ptu", billing="upfront", input_tpm=10_000,
        days=1, start=datetime.fromisoformat("2026-03-01T14:30:00+00:00"),
    )  # fmt: skip
    timeline = estimate(spec, catalog).timeline
    assert timeline is not None
    assert timeline.expires_at == datetime(2026, 3, 2, 23, 59, 59, tzinfo=BEIJING)


def test_example_6_monthly_cancellation(catalog: Catalog) -> None:
    """Cancelled after 10 days 7 hours: 11 days x (9,400 / 30) x 1.2 = $4,136.00, $5,264.00 back."""
    spec = DeploySpec(
        model="qwen3-vl-8b-instruct", plan="mu", billing="monthly", units=1, months=1,
        cancel_after_seconds=10 * 86_400 + 7 * 3_600,
    )  # fmt: skip
    cancellation = estimate(spec, catalog).cancellation
    assert cancellation is not None
    assert cancellation.billed_days == 11
    assert cancellation.settled == Decimal("4136.00")
    assert cancellation.refund == Decimal("5264.00")
    assert cancellation.paid == Decimal("9400")


def test_example_7_three_overflow_calls(catalog: Catalog) -> None:
    """3 x (1,000 x 1.2 + 500 x 6) / 1,000,000 = $0.0126 (exact, not rounded per call)."""
    one = price_overflow_call("qwen3-max-2025-09-23", "instruct", 1_000, 500, 0, catalog)
    assert one == Decimal("0.0042")
    assert 3 * one == Decimal("0.0126")


def test_example_8_unlisted_thinking_output_price(catalog: Catalog) -> None:
    """qwen-plus thinking with output TPM > 0: a clear error naming the override. Never $0."""
    spec = DeploySpec(
        model="qwen-plus-2025-12-01", plan="ptu", mode="thinking",
        input_tpm=10_000, output_tpm=1_000, hours=Decimal(1),
    )  # fmt: skip
    with pytest.raises(PriceNotListed) as info:
        estimate(spec, catalog)
    text = str(info.value)
    assert "qwen-plus-2025-12-01" in text
    assert "thinking" in text
    assert "output" in text
    assert "not listed" in text
    assert "[[catalog.prices]]" in text and 'price = "output_hourly"' in text
