"""The planner's cost model, on traces small enough to price by hand (docs/planner.md)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from modeldeck.billing.rules import BillingRules
from modeldeck.errors import CatalogError, ValidationFailed
from modeldeck.planner import CurrentCapacity, MuUnitTpm, plan, render_plan_text
from tests.planner.planhelpers import catalog, trace

MAX = "qwen3-max-2025-09-23"
CAT = catalog()


def test_an_hour_at_twenty_thousand_tpm_hourly_never_beats_payg() -> None:
    """60 min at 20,000 in / 2,000 out: 10k more input TPM for an hour costs $1.11 as PTU,
    $0.72 as pay-as-you-go (600k tokens × $1.20/M), so hourly keeps the 1-unit minimum."""
    result = plan(trace([20_000] * 60, [2_000] * 60), MAX, catalog=CAT)
    hourly = result.option("hourly")
    assert (hourly.input_tpm, hourly.output_tpm) == (10_000, 1_000)
    assert hourly.reserved == Decimal("1.56")  # 1.11 + 0.45
    assert hourly.overflow == Decimal("1.08")  # 600k × 1.2/M + 60k × 6/M
    assert hourly.total == Decimal("2.64")
    payg = result.option("payg")
    assert payg.total == Decimal("2.16")  # 1.2M × 1.2/M + 120k × 6/M
    assert hourly.saving_vs_payg == Decimal("-0.48")
    assert result.recommended == "payg"
    assert payg.effective_per_million == Decimal("1.6364")  # 2.16 / 1.32M tokens
    assert hourly.reasoning[0] == (
        "Input: 100% of minutes exceed 10,000 TPM; one more 10k unit costs $1.11/h and saves "
        "$0.72/h of overflow; 1 unit is the least a reservation holds."
    )
    text = render_plan_text(result)
    assert "Hourly PTU never costs less than pay-as-you-go on input tokens" in text
    assert "$1.85 per million against $1.20" in text
    assert "Upfront beats pay-as-you-go on input only above 77% utilisation" in text


def test_a_day_at_constant_load_buys_worked_example_two_upfront() -> None:
    """1,440 min at 20,000 / 2,000: upfront at 2 + 2 units is 37.44 a day (worked example 2)."""
    result = plan(trace([20_000] * 1440, [2_000] * 1440), MAX, catalog=CAT)
    upfront = result.option("upfront")
    assert (upfront.input_tpm, upfront.output_tpm) == (20_000, 2_000)
    assert upfront.reserved == Decimal("37.44") and upfront.overflow == 0
    assert result.recommended == "upfront"
    assert result.option("payg").total == Decimal("51.84")  # 28.8M × 1.2 + 2.88M × 6, per M
    assert upfront.saving_vs_payg == Decimal("14.40")
    assert upfront.reasoning[0] == (
        "Input: 0% of minutes exceed 20,000 TPM; one more 10k unit costs $0.56/h and saves "
        "$0.00/h of overflow; one unit fewer saves $0.56/h but adds $0.72/h."
    )
    assert upfront.rank == 1


def test_upfront_buys_started_days_and_hourly_the_exact_minutes() -> None:
    n = 1441  # one day and one minute
    result = plan(trace([30_000] * n, [3_000] * n), MAX, catalog=CAT, coverage="1")
    upfront, hourly = result.option("upfront"), result.option("hourly")
    assert upfront.reserved == 2 * (3 * Decimal("13.32") + 3 * Decimal("5.40"))
    # 3 × 1.11 + 3 × 0.45 = 4.68 an hour, for 1441/60 hours
    assert hourly.reserved == (Decimal("4.68") * n / 60).quantize(Decimal("0.01"))
    assert any("2 whole days" in why for why in upfront.reasoning)


def test_coverage_is_per_direction_and_payg_does_not_meet_it() -> None:
    # input 100k in all: 10k units serve 10+10+10+10 = 40k, 20k units serve 50k (the 50%).
    # output 4,000 in all: 1k units serve 1+1+1+1 = 4k already.
    result = plan(
        trace([10_000, 10_000, 10_000, 70_000], [1_000] * 4), MAX, catalog=CAT, coverage="0.5"
    )
    hourly = result.option("hourly")
    assert (hourly.input_tpm, hourly.output_tpm) == (20_000, 1_000)
    assert hourly.served_input == Decimal("0.5") and hourly.meets_coverage
    assert (
        "coverage=0.5 needs at least 20,000 TPM (cheapest without it: 10,000 TPM)"
        in (hourly.reasoning[0])
    )
    payg = result.option("payg")
    assert payg.meets_coverage is False
    assert result.recommended != "payg"
    assert [o.option for o in result.options][-1] == "payg"  # ranked after those that meet it
    assert "does NOT meet the coverage" in render_plan_text(result)


def test_schedule_follows_the_beijing_hours() -> None:
    """10:00–11:00 Beijing at 50k/5k, 11:00–12:00 at 10k/1k, everything covered: the schedule
    holds 5 + 5 units in the first hour and 1 + 1 in the second; constant hourly holds 5 + 5."""
    inputs = [50_000] * 60 + [10_000] * 60
    outputs = [5_000] * 60 + [1_000] * 60
    result = plan(trace(inputs, outputs), MAX, catalog=CAT, coverage="1")
    schedule, hourly = result.option("schedule"), result.option("hourly")
    assert hourly.reserved == Decimal("15.60")  # (5 × 1.11 + 5 × 0.45) × 2 h
    assert schedule.reserved == Decimal("9.36")  # 7.80 + 1.56
    assert schedule.schedule is not None
    busy = {h.hour: (h.input_tpm, h.output_tpm) for h in schedule.schedule if h.minutes}
    assert busy == {10: (50_000, 5_000), 11: (10_000, 1_000)}
    assert len(schedule.schedule) == 24
    assert schedule.saving_vs_payg is not None


def test_unlisted_prices_make_options_unavailable_never_zero() -> None:
    """qwen-plus thinking has no PTU output price; its pay-as-you-go thinking output is $4/M."""
    t = trace([10_000] * 60, [2_000] * 60, thinking=[1_000] * 60)
    result = plan(t, "qwen-plus-2025-12-01", catalog=CAT)
    assert result.mode == "thinking"
    for name in ("hourly", "upfront", "schedule"):
        opt = result.option(name)
        assert not opt.available and opt.total is None and opt.rank is None
        assert opt.error is not None and "is not listed" in opt.error
        assert 'mode = "thinking"' in opt.error  # the override hint
    payg = result.option("payg")
    assert payg.total == Decimal("0.72")  # 600k × 0.4/M + 120k × 4/M
    assert result.recommended == "payg"
    assert "not priced: The hourly output" in render_plan_text(result)
    deepseek = plan(trace([1_000], [100]), "deepseek-v3.2", catalog=CAT)
    assert deepseek.recommended is None
    assert all(not o.available for o in deepseek.options)
    assert "No option could be priced" in render_plan_text(deepseek)


def test_request_sizes_price_overflow_at_their_tiers() -> None:
    """A minute of two requests, 1,000 and 40,000 input tokens: tiers ≤32k and 32k–128k."""
    t = trace([41_000], [900], requests=[[1_000, 40_000]])
    payg = plan(t, MAX, catalog=CAT).option("payg")
    weights = (1_000 * Decimal("1.2") + 40_000 * Decimal("2.4")) / 41_000
    out_rate = (1_000 * Decimal(6) + 40_000 * Decimal(12)) / 41_000
    expected = (41_000 * weights + 900 * out_rate) / 1_000_000
    assert payg.total == expected.quantize(Decimal("0.01"))
    flat = plan(trace([41_000], [900]), MAX, catalog=CAT).option("payg")
    assert flat.total is not None and payg.total is not None and flat.total < payg.total


def test_saving_against_the_current_capacity() -> None:
    t = trace([20_000] * 60, [2_000] * 60)
    now = CurrentCapacity(billing="hourly", input_tpm=50_000, output_tpm=5_000)
    result = plan(t, MAX, catalog=CAT, current=now)
    assert result.current is not None
    assert result.current.total == Decimal("7.80")  # 5 × 1.11 + 5 × 0.45, no overflow
    assert result.option("payg").saving_vs_current == Decimal("5.64")
    assert "Today (hourly, 50,000 input / 5,000 output TPM): $7.80." in render_plan_text(result)


def test_current_capacity_must_be_whole_units() -> None:
    now = CurrentCapacity(billing="hourly", input_tpm=15_000, output_tpm=1_000)
    with pytest.raises(ValidationFailed, match="input_tpm=15,000 is not a whole number") as err:
        plan(trace([1], [1]), MAX, catalog=CAT, current=now)
    assert err.value.hint == "Nearest valid values: 10,000 or 20,000."


def test_mu_only_when_the_configuration_says_what_a_unit_serves() -> None:
    t = trace([400_000] * 60, [40_000] * 60)
    plain = plan(t, "qwen3-32b", catalog=CAT)
    assert [o.option for o in plain.options] == ["payg"]  # an MU model has no PTU options
    per_unit = {"qwen3-32b": MuUnitTpm(input_tpm=500_000, output_tpm=50_000)}
    result = plan(t, "qwen3-32b", catalog=CAT, mu_unit_tpm=per_unit, coverage="1")
    mu = result.option("mu")
    assert mu.units == 1 and mu.reserved == Decimal("40.00") and mu.overflow == 0
    assert result.option("payg").total == Decimal("5.38")  # 24M × 0.16 + 2.4M × 0.64, per M
    assert result.recommended == "mu"  # payg does not meet coverage=1


def test_curve_and_sensitivity() -> None:
    """A day at 25,000 / 2,500: a third input unit would save 8.64 of overflow for 13.32, so
    upfront holds 20,000 / 2,000; at 30,000 / 3,000 (+20%) the third units pay for themselves."""
    t = trace([25_000] * 1440, [2_500] * 1440)
    result = plan(t, MAX, catalog=CAT)
    upfront = result.option("upfront")
    assert (upfront.input_tpm, upfront.output_tpm) == (20_000, 2_000)
    assert upfront.total == Decimal("50.40")  # 26.64 + 8.64 + 10.80 + 4.32
    hourly = result.option("hourly")
    points = {p.input_tpm: p.total for p in result.curve}
    assert sorted(points) == [10_000, 20_000, 30_000, 40_000]
    assert points[hourly.input_tpm or 0] == hourly.total == min(points.values())
    sens = result.sensitivity
    assert sens is not None and sens.option == "upfront"
    assert (sens.input_tpm, sens.output_tpm) == (30_000, 3_000)
    assert sens.text == (
        "With 20% more traffic, upfront moves from 20,000 input / 2,000 output TPM to "
        "30,000 input / 3,000 output TPM, $50.40 → $56.16 for the trace; upfront stays the "
        "cheapest."
    )
    assert plan(t, MAX, catalog=CAT, growth=None).sensitivity is None


def test_json_has_decimal_strings() -> None:
    result = plan(trace([20_000] * 60, [2_000] * 60), MAX, catalog=CAT, coverage="0.9")
    data = json.loads(result.model_dump_json())
    hourly = next(o for o in data["options"] if o["option"] == "hourly")
    assert hourly["billing"] == "hourly"
    assert hourly["input_tpm"] == 20_000 and hourly["output_tpm"] == 2_000
    for key in ("reserved", "overflow", "total", "effective_per_million"):
        assert isinstance(hourly[key], str)
    assert data["coverage"] == "0.9"
    assert isinstance(data["curve"][0]["total"], str)


def test_units_follow_the_billing_rules() -> None:
    rules = BillingRules(ptu_input_step=5_000, ptu_output_step=500)
    result = plan(trace([5_000] * 60, [500] * 60), MAX, catalog=CAT, rules=rules, coverage="1")
    assert result.option("hourly").input_tpm == 5_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"coverage": "1.5"}, "coverage=1.5 is not a fraction between 0 and 1"),
        ({"coverage": "lots"}, "coverage=lots is not a fraction"),
        ({"options": ["cheap"]}, "Unknown plan option 'cheap'"),
        ({"mode": "thinking"}, "has no thinking mode"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        plan(trace([1], [1]), MAX, catalog=CAT, **kwargs)  # type: ignore[arg-type]


def test_trace_and_mode_must_fit_the_model() -> None:
    with pytest.raises(ValidationFailed, match="thinking output tokens, but qwen3-max"):
        plan(trace([1], [1], thinking=[1]), MAX, catalog=CAT)
    with pytest.raises(ValidationFailed, match="cannot be planned in instruct mode"):
        plan(trace([1], [1], thinking=[1]), "qwen-flash-2025-07-28", catalog=CAT, mode="instruct")
    other = trace([1], [1]).model_copy(update={"model": "qwen-flash-2025-07-28"})
    with pytest.raises(ValidationFailed, match="usage of qwen-flash-2025-07-28, not qwen3-max"):
        plan(other, MAX, catalog=CAT)
    with pytest.raises(CatalogError, match="Unknown model"):
        plan(trace([1], [1]), "gpt-9", catalog=CAT)
