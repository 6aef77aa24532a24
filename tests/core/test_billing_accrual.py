"""Accrual over a deployment's history, the batched overflow roll-up and cost periods."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeldeck.billing import (
    CapacityEvent,
    DeploymentHistory,
    DeploymentOverflow,
    OverflowCall,
    PrepaidOrder,
    accrue,
    estimate,
    parse_period,
    price_overflow_call,
    rollup_overflow,
)
from modeldeck.billing.accrual import started_minutes
from modeldeck.billing.overflow import beijing_day
from modeldeck.catalog import load_catalog
from modeldeck.domain import DeploySpec
from modeldeck.errors import GrammarError, ValidationFailed
from modeldeck.timeutil import BEIJING

CATALOG = load_catalog()
MAX = "qwen3-max-2025-09-23"
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING)
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ptu_history(*events: tuple[float, str, dict[str, Any]], calls: Any = ()) -> DeploymentHistory:
    return DeploymentHistory(
        deployment_id="dep-1",
        model=MAX,
        plan="ptu",
        events=[CapacityEvent(at=at(m), kind=kind, **cap) for m, kind, cap in events],
        calls=list(calls),
    )


CAP = {"input_tpm": 20_000, "output_tpm": 2_000}  # $3.12 an hour


def test_hourly_accrual_matches_the_estimate_for_the_same_duration() -> None:
    history = ptu_history((0, "created", CAP), (90.5, "unpublished", {}))
    got = accrue(history, T0 - timedelta(days=1), T0 + timedelta(days=1), CATALOG)
    spec = DeploySpec(model=MAX, plan="ptu", duration_seconds=90 * 60 + 30, **CAP)
    assert got.total == estimate(spec, CATALOG).total == Decimal("3.12") * 91 / 60
    assert [line.kind for line in got.lines] == ["reserved"]


def test_scaling_stopping_and_resuming() -> None:
    history = ptu_history(
        (0, "created", CAP),
        (60, "scaled", {"input_tpm": 40_000, "output_tpm": 2_000}),  # $5.34 an hour
        (120, "stopped", {}),
        (180, "resumed", {}),
        (240, "unpublished", {}),
    )
    got = accrue(history, T0, T0 + timedelta(days=1), CATALOG)
    assert got.total == Decimal("3.12") + Decimal("5.34") * 2
    assert len(got.lines) == 3


def test_a_still_running_deployment_accrues_up_to_the_window_end() -> None:
    history = ptu_history((0, "created", CAP))
    assert accrue(history, T0, at(30), CATALOG).total == Decimal("1.56")


def test_overflow_calls_only_when_flagged_or_longer_than_max_input() -> None:
    calls = [
        OverflowCall(at=at(5), input_tokens=1_000, output_tokens=500),  # flagged
        OverflowCall(at=at(6), input_tokens=1_000, output_tokens=500, overflow=False),  # free
        OverflowCall(at=at(7), input_tokens=130_000, output_tokens=10, overflow=False),  # > max
        OverflowCall(at=at(9_000), input_tokens=1_000, output_tokens=500),  # outside window
    ]
    history = ptu_history((0, "created", CAP), (60, "unpublished", {}), calls=calls)
    got = accrue(history, T0, T0 + timedelta(days=1), CATALOG)
    overflow = got.by_kind()["overflow"]
    expected = Decimal("0.0042") + price_overflow_call(MAX, "instruct", 130_000, 10, 0, CATALOG)
    assert overflow == expected
    assert got.total == Decimal("3.12") + expected


def test_example_6_as_accrual_order_then_refund() -> None:
    history = DeploymentHistory(
        deployment_id="mu-1", model="qwen3-vl-8b-instruct", plan="mu", billing="monthly",
        orders=[PrepaidOrder(ordered_at=T0, days=30, units=1,
                             cancelled_at=T0 + timedelta(days=10, hours=7))],
    )  # fmt: skip
    whole = accrue(history, T0, T0 + timedelta(days=60), CATALOG)
    assert whole.by_kind() == {"upfront_order": Decimal("9400"), "refund": Decimal("-5264.0")}
    assert whole.total == Decimal("4136")
    first_week = accrue(history, T0, T0 + timedelta(days=7), CATALOG)
    assert first_week.total == Decimal("9400")


def test_upfront_order_paid_at_order_time() -> None:
    history = DeploymentHistory(
        deployment_id="up-1", model=MAX, plan="ptu", billing="upfront",
        orders=[PrepaidOrder(ordered_at=T0, days=7, **CAP)],
    )  # fmt: skip
    assert accrue(history, T0, at(1), CATALOG).total == Decimal("262.08")
    assert accrue(history, at(1), at(10_000), CATALOG).total == 0


def test_bad_histories_are_refused_clearly() -> None:
    with pytest.raises(ValidationFailed, match="comes before 'created'"):
        accrue(ptu_history((0, "scaled", CAP)), T0, at(60), CATALOG)
    with pytest.raises(ValidationFailed, match="carries no capacity"):
        accrue(ptu_history((0, "created", {})), T0, at(60), CATALOG)
    with pytest.raises(ValidationFailed, match="ends before it starts"):
        accrue(ptu_history((0, "created", CAP)), at(60), T0, CATALOG)


def test_started_minutes_anchor_at_the_segment_start() -> None:
    start, end = at(0.5), at(3.25)  # 2.75 minutes: 3 started minutes
    assert started_minutes(start, end, T0, at(100)) == 3
    assert started_minutes(start, end, T0, at(1)) == 1  # the minute starting at 0.5
    assert started_minutes(start, end, at(1), at(100)) == 2


events_strategy = st.lists(
    st.tuples(st.integers(1, 5_000), st.sampled_from(["scaled", "stopped", "resumed"]),
              st.integers(1, 5)),
    max_size=8,
)  # fmt: skip


@FAST
@given(events_strategy, st.integers(0, 6_000), st.integers(0, 6_000), st.integers(0, 59))
def test_accrual_over_adjacent_windows_adds_up(
    raw: list[tuple[int, str, int]], cut_a: int, cut_b: int, seconds: int
) -> None:
    events: list[tuple[float, str, dict[str, Any]]] = [(0, "created", CAP)]
    for minute, kind, k in sorted(raw):
        cap = {"input_tpm": 10_000 * k, "output_tpm": 1_000 * k} if kind == "scaled" else {}
        events.append((minute + seconds / 60, kind, cap))
    history = ptu_history(*events)
    lo, mid, hi = T0, at(min(cut_a, cut_b)), at(max(cut_a, cut_b) + 1)
    whole = accrue(history, lo, hi, CATALOG).total
    parts = accrue(history, lo, mid, CATALOG).total + accrue(history, mid, hi, CATALOG).total
    assert abs(whole - parts) <= Decimal("1e-16")
    assert whole >= 0


# ------------------------------------------------------------------ batched overflow roll-up


@FAST
@given(
    st.lists(
        st.tuples(st.integers(0, 3 * 86_400), st.integers(0, 256_000), st.integers(0, 9_000),
                  st.booleans()),
        max_size=60,
    ),
    st.sampled_from([(MAX, "instruct"), ("qwen-plus-2025-12-01", "instruct"),
                     ("qwen3-vl-plus-2025-09-23", "instruct"), ("qwen3-32b", "instruct"),
                     ("qwen-flash-2025-07-28", "thinking")]),
)  # fmt: skip
def test_rollup_equals_the_per_call_loop(
    rows: list[tuple[int, int, int, bool]], model_mode: tuple[str, str]
) -> None:
    model, mode = model_mode
    thinks = model == "qwen-plus-2025-12-01"  # reasoning tokens switch it to thinking prices
    base = int(T0.timestamp())
    batch = DeploymentOverflow(
        deployment="d", model=model, mode=mode,
        at=[base + r[0] for r in rows], input_tokens=[r[1] for r in rows],
        output_tokens=[r[2] for r in rows],
        reasoning_tokens=[r[2] // 2 if thinks and r[3] else 0 for r in rows],
    )  # fmt: skip
    days = rollup_overflow([batch], CATALOG)
    expected: dict[date, Decimal] = defaultdict(Decimal)
    for when, i, o, r in zip(batch.at, batch.input_tokens, batch.output_tokens,
                             batch.reasoning_tokens or [], strict=True):  # fmt: skip
        expected[beijing_day(when)] += price_overflow_call(model, mode, i, o, r, CATALOG)
    assert {d.day: d.amount for d in days} == dict(expected)
    assert sum(d.calls for d in days) == len(rows)


def test_rollup_days_follow_the_beijing_calendar() -> None:
    midnight = int(datetime(2026, 3, 2, 0, 0, tzinfo=BEIJING).timestamp())
    batch = DeploymentOverflow("d", MAX, "instruct", [midnight - 1, midnight], [1_000] * 2,
                               [500] * 2)  # fmt: skip
    days = rollup_overflow([batch], CATALOG)
    assert [(d.day, d.amount) for d in days] == [
        (date(2026, 3, 1), Decimal("0.0042")),
        (date(2026, 3, 2), Decimal("0.0042")),
    ]


# ------------------------------------------------------------------ cost query periods

NOW = datetime(2026, 3, 15, 9, 30, tzinfo=BEIJING)


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("today", bj(2026, 3, 15), NOW),
        ("yesterday", bj(2026, 3, 14), bj(2026, 3, 15)),
        ("7d", NOW - timedelta(days=7), NOW),  # a duration is the rolling window ending now
        ("1d2h", NOW - timedelta(hours=26), NOW),
        ("week", bj(2026, 3, 9), NOW),  # 2026-03-15 is a Sunday; weeks start on Monday
        ("last-month", bj(2026, 2, 1), bj(2026, 3, 1)),
        ("year", bj(2026, 1, 1), NOW),
        ("all", bj(1970, 1, 1), NOW),
        ("2026-03-02", bj(2026, 3, 2), bj(2026, 3, 3)),
        ("2026-03-15", bj(2026, 3, 15), NOW),
        ("month", bj(2026, 3, 1), NOW),
        (None, bj(2026, 3, 1), NOW),
        ("2026-02", bj(2026, 2, 1), bj(2026, 3, 1)),
        ("2025-12", bj(2025, 12, 1), bj(2026, 1, 1)),
        ("2026-03", bj(2026, 3, 1), NOW),
        ("2026-03-01..2026-03-07", bj(2026, 3, 1), bj(2026, 3, 8)),
        ("2026-03-01T12:00+00:00..2026-03-02", bj(2026, 3, 1, 20), bj(2026, 3, 3)),
        ("2026-03-10..", bj(2026, 3, 10), NOW),
    ],
)
def test_periods_on_the_beijing_calendar(text: str | None, start: datetime,
                                         end: datetime) -> None:  # fmt: skip
    assert parse_period(text, now=NOW) == (start, end)


def test_today_is_the_beijing_day_even_from_utc() -> None:
    now = datetime.fromisoformat("2026-03-14T20:00:00+00:00")  # 04:00 on the 15th in Beijing
    assert parse_period("today", now=now)[0] == bj(2026, 3, 15)


@pytest.mark.parametrize(
    ("text", "error", "says"),
    [
        ("fortnight", GrammarError, "today, yesterday, week, month, last-month"),
        ("7x", GrammarError, "a duration such as 7d or 24h"),
        ("2026-02-30", GrammarError, "not a real date"),
        ("2026-03-16", ValidationFailed, "Give a past day"),
        ("2026-13", GrammarError, "not a month (01-12)"),
        ("2026-03-07..2026-03-01", ValidationFailed, "Put the earlier date first"),
        ("2026-03-01..soon", GrammarError, "YYYY-MM-DD"),
        ("..2026-03-01", GrammarError, "<from>..<to>"),
        ("2027-01", ValidationFailed, "Give a month up to the current one"),
        ("0d", ValidationFailed, "from 1s to 3660d"),
    ],
)
def test_bad_periods_say_what_is_allowed(text: str, error: type[Exception], says: str) -> None:
    with pytest.raises(error) as info:
        parse_period(text, now=NOW)
    assert says in str(info.value)


def test_rollup_prices_reasoning_calls_at_tiered_thinking_prices() -> None:
    """With contract prices for qwen3-vl-plus thinking output, reasoning calls use them by tier."""
    from modeldeck.settings import PriceOverride, Settings

    vl = "qwen3-vl-plus-2025-09-23"
    overrides = [
        PriceOverride(model=vl, plan="payg", mode="thinking", price="output", tier=tier,
                      amount=Decimal(amount))
        for tier, amount in (("0-32k", "3.2"), ("32k-128k", "4.8"), ("128k-256k", "9.6"))
    ]  # fmt: skip
    catalog = load_catalog(Settings(catalog={"prices": overrides}))
    base = int(T0.timestamp())
    ins = [1_000, 40_000, 200_000, 5_000, 130_000, 31_000]
    outs = [100, 200, 300, 400, 500, 600]
    reasons = [0, 50, 0, 10, 20, 0]
    batch = DeploymentOverflow("vl", vl, "instruct", [base + 60 * i for i in range(6)], ins, outs,
                               reasons)  # fmt: skip
    (day,) = rollup_overflow([batch], catalog)
    expected = sum(
        (price_overflow_call(vl, "instruct", i, o, r, catalog) for i, o, r in
         zip(ins, outs, reasons, strict=True)),
        Decimal(0),
    )  # fmt: skip
    assert day.amount == expected
    # 40,000 input tokens: tier 32k-128k, 0.3 in and 4.8 thinking out per million.
    assert price_overflow_call(vl, "instruct", 40_000, 200, 50, catalog) == Decimal("0.01296")


def test_rollup_refuses_calls_beyond_the_highest_tier() -> None:
    from modeldeck.errors import CatalogError

    batch = DeploymentOverflow("d", MAX, "instruct", [0, 1], [1_000, 300_000], [1, 1])
    with pytest.raises(CatalogError, match="highest tier ends at 256,000"):
        rollup_overflow([batch], CATALOG)
