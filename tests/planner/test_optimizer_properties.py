"""The planner's capacities are the true optimum: checked against brute force, to the cent.

The brute force here shares nothing with the planner: it simulates every whole-unit capacity
level minute by minute in exact fractions, straight from the catalog's prices, and keeps the
cheapest pair (input, output) that meets the coverage.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeldeck.catalog import Catalog, CatalogBuilder, PriceEntry
from modeldeck.catalog.data import builtin_entries
from modeldeck.planner import MuUnitTpm, Trace, plan
from modeldeck.planner.result import OptionName
from modeldeck.timeutil import BEIJING
from tests.planner.planhelpers import START, catalog, trace

CAT = catalog()


def discounted(factor: str) -> Catalog:
    """The seed's catalog with every reservation price times `factor`, so that buying
    capacity pays off on short traces and the optimum lies inside the range, not at 1 unit."""
    entries = []
    for entry in builtin_entries():
        if isinstance(entry, PriceEntry) and entry.plan in ("ptu", "mu") and entry.amount:
            entry = entry.model_copy(update={"amount": entry.amount * Decimal(factor)})
        entries.append(entry)
    builder = CatalogBuilder()
    builder.register(entries, source="test")
    return builder.build()


CATALOGS = {f: discounted(f) for f in ("1", "0.1", "0.02", "0.005", "0.001")}
MODELS = ["qwen3-max-2025-09-23", "qwen-flash-2025-07-28", "qwen3-vl-plus-2025-09-23"]
COVERAGES = [None, "0", "0.3", "0.8", "0.95", "1"]
MU_UNIT = MuUnitTpm(input_tpm=30_000, output_tpm=3_000)


def cents(amount: Fraction | int) -> Decimal:
    value = Fraction(amount)
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def price(
    model: str, plan_: str, name: str, tier: str | None = None, cat: Catalog = CAT
) -> Fraction:
    return Fraction(cat.amount(model, "instruct", plan_, name, tier))


def rates(model: str, t: Trace, name: str) -> list[Fraction]:
    """Per-minute PAYG rate per token: the lowest tier, or each request's tier by its tokens."""
    lowest = CAT.tiers(model, "instruct")[0].name
    out = []
    for i in range(t.minutes):
        sizes = t.request_inputs[i] if t.request_inputs else []
        if not sizes or sum(sizes) == 0:
            out.append(price(model, "payg", name, lowest) / 1_000_000)
            continue
        weighted = sum(
            s * price(model, "payg", name, CAT.payg_tier(model, "instruct", s).name) for s in sizes
        )
        out.append(Fraction(weighted) / sum(sizes) / 1_000_000)
    return out


def simulate(
    values: Sequence[int],
    per_token: Sequence[Fraction],
    step: int,
    unit_cost: Fraction,
    coverage: Fraction | None,
) -> dict[int, Fraction]:
    """Cost of every unit count from 1 past the peak that meets the coverage."""
    top = max(values, default=0) // step + 2
    out = {}
    for k in range(1, top + 1):
        cap = k * step
        served = sum(min(x, cap) for x in values)
        if coverage is not None and served < coverage * sum(values):
            continue
        out[k] = k * unit_cost + sum(
            r * max(0, x - cap) for x, r in zip(values, per_token, strict=True)
        )
    return out


def best_pair(ins: dict[int, Fraction], outs: dict[int, Fraction]) -> Fraction:
    return min(a + b for a in ins.values() for b in outs.values())


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, Trace, str | None, str]:
    model = draw(st.sampled_from(MODELS))
    n = draw(st.integers(1, 40))
    big = st.integers(0, 120_000)
    inputs = draw(st.lists(st.one_of(st.just(0), big), min_size=n, max_size=n))
    outputs = draw(st.lists(st.integers(0, 12_000), min_size=n, max_size=n))
    requests = None
    if draw(st.booleans()):
        requests = []
        for x in inputs:
            cut = sorted(draw(st.lists(st.integers(0, x), max_size=2)))
            bounds = [0, *cut, x]
            requests.append([b - a for a, b in itertools.pairwise(bounds) if b > a])
    start = START + timedelta(minutes=draw(st.integers(0, 1439)))
    coverage = draw(st.sampled_from(COVERAGES))
    factor = draw(st.sampled_from(list(CATALOGS)))
    return model, trace(inputs, outputs, requests=requests, start=start), coverage, factor


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_every_option_is_the_brute_force_optimum(
    case: tuple[str, Trace, str | None, str],
) -> None:
    model, t, cov_text, factor = case
    cat = CATALOGS[factor]
    cov = None if cov_text is None else Fraction(cov_text)
    result = plan(t, model, catalog=cat, coverage=cov_text, mu_unit_tpm={model: MU_UNIT})
    m = t.minutes
    r_in, r_out = rates(model, t, "input"), rates(model, t, "output")
    ins, outs = t.input_tokens, t.output_tokens

    payg = sum(r * x for r, x in zip(r_in, ins, strict=True)) + sum(
        r * x for r, x in zip(r_out, outs, strict=True)
    )
    assert result.option("payg").total == cents(payg)

    spans: tuple[tuple[OptionName, str, str, Fraction], ...] = (
        ("hourly", "input_hourly", "output_hourly", Fraction(m, 60)),
        ("upfront", "input_daily", "output_daily", Fraction(-(-m // 1440))),
    )
    for billing, in_price, out_price, span in spans:
        opt = result.option(billing)
        by_in = simulate(ins, r_in, 10_000, price(model, "ptu", in_price, cat=cat) * span, cov)
        by_out = simulate(outs, r_out, 1_000, price(model, "ptu", out_price, cat=cat) * span, cov)
        assert opt.total == cents(best_pair(by_in, by_out)), billing
        # the capacities chosen are feasible and cost exactly that
        assert opt.input_tpm is not None and opt.output_tpm is not None
        chosen = by_in[opt.input_tpm // 10_000] + by_out[opt.output_tpm // 1_000]
        assert cents(chosen) == opt.total
        assert opt.meets_coverage

    # schedule: each Beijing hour of the day on its own, coverage met in every hour
    hours: dict[int, list[int]] = {}
    for i in range(m):
        hours.setdefault((t.minute_at(i).astimezone(BEIJING)).hour, []).append(i)
    total = Fraction(0)
    for minutes in hours.values():
        share = Fraction(len(minutes), 60)
        by_in = simulate(
            [ins[i] for i in minutes],
            [r_in[i] for i in minutes],
            10_000,
            price(model, "ptu", "input_hourly", cat=cat) * share,
            cov,
        )
        by_out = simulate(
            [outs[i] for i in minutes],
            [r_out[i] for i in minutes],
            1_000,
            price(model, "ptu", "output_hourly", cat=cat) * share,
            cov,
        )
        total += best_pair(by_in, by_out)
    assert result.option("schedule").total == cents(total)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(cases())
def test_model_units_are_the_brute_force_optimum(
    case: tuple[str, Trace, str | None, str],
) -> None:
    _, t, cov_text, factor = case
    model = "qwen3-32b"
    cat = CATALOGS[factor]
    cov = None if cov_text is None else Fraction(cov_text)
    result = plan(t, model, catalog=cat, coverage=cov_text, mu_unit_tpm={model: MU_UNIT})
    r_in = Fraction(CAT.amount(model, "instruct", "payg", "input", "all")) / 1_000_000
    r_out = Fraction(CAT.amount(model, "instruct", "payg", "output", "all")) / 1_000_000
    unit = Fraction(cat.amount(model, "instruct", "mu", "unit_hourly")) * Fraction(t.minutes, 60)
    a, b = MU_UNIT.input_tpm, MU_UNIT.output_tpm
    top = max(max(t.input_tokens) // a, max(t.output_tokens) // b) + 2
    costs: list[Fraction] = []
    for u in range(1, top + 1):
        served_in = sum(min(x, u * a) for x in t.input_tokens)
        served_out = sum(min(x, u * b) for x in t.output_tokens)
        if cov is not None and (
            served_in < cov * sum(t.input_tokens) or served_out < cov * sum(t.output_tokens)
        ):
            continue
        over: Fraction | int = sum(r_in * max(0, x - u * a) for x in t.input_tokens)
        over += sum(r_out * max(0, x - u * b) for x in t.output_tokens)
        costs.append(Fraction(u * unit + over))
    assert result.option("mu").total == cents(min(costs))
