"""Property-based tests of the billing engine (hypothesis): the rules hold for any input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from modeldeck.billing import (
    estimate,
    order_timeline,
    price_overflow_call,
    render_estimate_text,
    settle_cancellation,
)
from modeldeck.catalog import load_catalog
from modeldeck.domain import DeploySpec
from modeldeck.money import format_amount, round_cents
from modeldeck.timeutil import BEIJING

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TINY = Decimal("1e-17")  # non-terminating quotients (x / 60, x / 30) carry 18 places

CATALOG = load_catalog()  # the built-in catalog, built once for the module
PTU_MODELS = [m for m in CATALOG.models if "ptu" in CATALOG.model_info(m).plans]
MU_MODELS = [m for m in CATALOG.models if "mu" in CATALOG.model_info(m).plans]


def _output_listed(model: str, mode: str) -> bool:
    entry = CATALOG.entry(model, mode, "ptu", "output_hourly")
    return entry is not None and entry.listed


@st.composite
def ptu_specs(draw: st.DrawFn, billing: str | None = None) -> dict[str, Any]:
    model = draw(st.sampled_from(PTU_MODELS))
    mode = draw(st.sampled_from(CATALOG.model_info(model).modes))
    out_units = draw(st.integers(0, 40)) if _output_listed(model, mode) else 0
    return {
        "model": model,
        "plan": "ptu",
        "mode": mode,
        "billing": billing or draw(st.sampled_from(["hourly", "upfront"])),
        "input_tpm": 10_000 * draw(st.integers(1, 40)),
        "output_tpm": 1_000 * out_units,
    }


@st.composite
def mu_specs(draw: st.DrawFn, billing: str | None = None) -> dict[str, Any]:
    model = draw(st.sampled_from(MU_MODELS))
    return {
        "model": model,
        "plan": "mu",
        "billing": billing or draw(st.sampled_from(["hourly", "monthly"])),
        "units": draw(st.integers(1, 50)),
    }


any_spec = ptu_specs() | mu_specs()
durations = st.one_of(
    st.none(),
    st.builds(lambda s: {"duration_seconds": s}, st.integers(1, 90 * 86_400)),
    st.builds(lambda h: {"hours": Decimal(h) / 4}, st.integers(1, 2_000)),
    st.builds(lambda d: {"days": d}, st.integers(1, 400)),
    st.builds(lambda m: {"months": m}, st.integers(1, 24)),
)


def _estimate(base: dict[str, Any], **extra: Any) -> Any:
    return estimate(DeploySpec(**{**base, **extra}), CATALOG)


@pytest.mark.slow
@FAST
@given(any_spec, durations)
def test_costs_are_never_negative_and_total_is_the_sum_of_lines(
    base: dict[str, Any], duration: dict[str, Any] | None
) -> None:
    est = _estimate(base, **(duration or {}))
    assert est.total >= 0
    assert all(line.amount >= 0 for line in est.lines)
    assert est.total == sum(line.amount for line in est.lines)
    assert est.per_hour is not None and est.per_hour >= 0
    assert est.per_day is not None and est.per_30_days is not None


def _scale(base: dict[str, Any], k: int) -> dict[str, Any]:
    out = dict(base)
    for field in ("input_tpm", "output_tpm", "units"):
        if out.get(field) is not None:
            out[field] = out[field] * k
    return out


@FAST
@given(any_spec, durations, st.integers(2, 9))
def test_linear_in_capacity(base: dict[str, Any], duration: dict[str, Any] | None, k: int) -> None:
    assume(base.get("units") is None or base["units"] * k <= 999)
    one = _estimate(base, **(duration or {})).total
    many = _estimate(_scale(base, k), **(duration or {})).total
    assert abs(many - k * one) <= TINY * k


@FAST
@given(any_spec, st.integers(1, 20_000), st.integers(1, 20_000))
def test_linear_in_time_within_the_billing_granularity(base: dict[str, Any], a: int,
                                                       b: int) -> None:  # fmt: skip
    step = 60 if base["billing"] == "hourly" else 86_400  # minutes, or days when prepaid
    if step == 86_400:  # prepaid terms are bounded (BillingRules.max_duration_days = 3,660)
        a, b = a % 1830 + 1, b % 1830 + 1
    ta = _estimate(base, duration_seconds=a * step).total
    tb = _estimate(base, duration_seconds=b * step).total
    tab = _estimate(base, duration_seconds=(a + b) * step).total
    assert abs(tab - (ta + tb)) <= TINY


@FAST
@given(any_spec, st.integers(1, 10**7))
def test_a_started_period_is_billed_whole(base: dict[str, Any], seconds: int) -> None:
    step = 60 if base["billing"] == "hourly" else 86_400
    whole = -(-seconds // step) * step
    assert (
        _estimate(base, duration_seconds=seconds).total
        == _estimate(base, duration_seconds=whole).total
    )


@pytest.mark.parametrize("model", PTU_MODELS)
def test_upfront_daily_is_12_times_hourly_for_every_seed_model(model: str) -> None:
    checked = 0
    for mode in CATALOG.model_info(model).modes:
        for kind in ("input", "output"):
            hourly = CATALOG.entry(model, mode, "ptu", f"{kind}_hourly")
            daily = CATALOG.entry(model, mode, "ptu", f"{kind}_daily")
            assert hourly is not None and daily is not None
            assert hourly.listed == daily.listed
            if hourly.amount is not None and daily.amount is not None:
                assert daily.amount == 12 * hourly.amount
                checked += 1
    assert checked >= 1


@FAST
@given(ptu_specs(billing="hourly"), st.integers(1, 23))
def test_upfront_per_day_is_12_hours_and_wins_above_12_hours_a_day(
    base: dict[str, Any], hours_per_day: int
) -> None:
    hourly = _estimate(base)
    upfront = _estimate(base, billing="upfront")
    assert upfront.per_day == 12 * hourly.per_hour
    compared = _estimate(base, hours_per_day=Decimal(hours_per_day))
    assert compared.comparison is not None
    rows = {row["billing"]: row for row in compared.comparison}
    assert rows["upfront"]["break_even_hours_per_day"] == "12.00"
    assert rows["upfront"]["cheaper"] is (hours_per_day > 12)
    assert rows["hourly"]["cheaper"] is (hours_per_day < 12)


def _exact_total(base: dict[str, Any], minutes: int) -> Fraction:
    """The spec's hourly cost computed independently with fractions."""
    total = Fraction(0)
    if base["plan"] == "mu":
        rate = CATALOG.amount(base["model"], "instruct" if "thinking" not in base["model"]
                              else "thinking", "mu", "unit_hourly")  # fmt: skip
        total += base["units"] * Fraction(rate)
    else:
        total += Fraction(base["input_tpm"] // 10_000) * Fraction(
            CATALOG.amount(base["model"], base["mode"], "ptu", "input_hourly")
        )
        if base["output_tpm"]:
            total += Fraction(base["output_tpm"] // 1_000) * Fraction(
                CATALOG.amount(base["model"], base["mode"], "ptu", "output_hourly")
            )
    return total * minutes / 60


@FAST
@given(ptu_specs(billing="hourly") | mu_specs(billing="hourly"), st.integers(1, 100_000))
def test_rounding_happens_only_at_presentation(base: dict[str, Any], minutes: int) -> None:
    est = _estimate(base, duration_seconds=minutes * 60)
    exact = _exact_total(base, minutes)
    assert abs(Fraction(est.total) - exact) < Fraction(1, 10**17)
    assert est.total == sum(line.amount for line in est.lines)  # lines are not rounded either
    shown = round_cents(est.total)
    assert f"Total for {est.period}: {format_amount(shown, est.currency)}" in (
        render_estimate_text(est)
    )


@FAST
@given(st.lists(st.tuples(st.integers(0, 256_000), st.integers(0, 20_000)), min_size=1,
                max_size=40))  # fmt: skip
def test_overflow_calls_are_summed_exactly(calls: list[tuple[int, int]]) -> None:
    model = "qwen3-max-2025-09-23"
    prices = [price_overflow_call(model, "instruct", i, o, 0, CATALOG) for i, o in calls]
    rates: dict[int, tuple[Fraction | int, int]] = {
        32_000: (Fraction(12, 10), 6),
        128_000: (Fraction(24, 10), 12),
        256_000: (3, 15),
    }
    exact = Fraction(0)
    for i, o in calls:
        pin, pout = next(rates[h] for h in sorted(rates) if i <= h)
        exact += (i * Fraction(pin) + o * pout) / 1_000_000
    assert all(p >= 0 for p in prices)
    assert Fraction(sum(prices)) == exact


instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31),
    timezones=st.sampled_from([UTC, BEIJING, timezone(timedelta(hours=-7)),
                               timezone(timedelta(hours=5, minutes=45))]),
)  # fmt: skip


@FAST
@given(instants, st.integers(1, 400))
def test_timeline_stop_is_2h_after_expiry_and_release_14h_after_stop(
    ordered: datetime, days: int
) -> None:
    t = order_timeline(ordered, days)
    assert t.stops_at - t.expires_at == timedelta(hours=2)
    assert t.released_at - t.stops_at == timedelta(hours=14)
    local = ordered.astimezone(BEIJING)
    expires = t.expires_at.astimezone(BEIJING)
    assert (expires.hour, expires.minute, expires.second) == (23, 59, 59)
    extra = local.hour >= 22
    assert t.extra_day is extra
    assert (expires.date() - local.date()).days == days - 1 + extra
    assert t.expires_at > ordered


@FAST
@given(any_spec, st.integers(1, 400), st.integers(1, 30 * 86_400))
def test_cancellation_settled_plus_refund_is_paid(base: dict[str, Any], days: int,
                                                  elapsed: int) -> None:  # fmt: skip
    assume(elapsed < days * 86_400)
    billing = "upfront" if base["plan"] == "ptu" else "monthly"
    est = _estimate(base, billing=billing, days=days, cancel_after_seconds=elapsed)
    c = est.cancellation
    assert c is not None
    assert c.paid == est.total
    assert c.settled + c.refund == c.paid
    assert c.refund >= 0 and c.settled >= 0
    assert c.billed_days == -(-elapsed // 86_400)


@FAST
@given(st.decimals(min_value=0, max_value=10**6, places=2), st.integers(1, 60),
       st.integers(1, 30 * 86_400))  # fmt: skip
def test_settlement_never_refunds_below_zero(paid: Decimal, days: int, elapsed: int) -> None:
    assume(elapsed < days * 86_400)
    c = settle_cancellation(paid, paid / days, elapsed, days)
    assert c.settled + c.refund == paid and c.refund >= 0
