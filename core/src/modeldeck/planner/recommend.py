"""`plan`: price a usage trace under every way of buying capacity and recommend the cheapest.

Checks the request (model, mode, coverage, options, today's capacity), prices each option with
`OptionPricer`, ranks them, and adds what the list prices imply, the saving against pay-as-you-go
and today, the cost curve and the sensitivity line (docs/planner.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, localcontext

from modeldeck.billing.rules import DEFAULT_RULES, BillingRules, money_context
from modeldeck.catalog import Catalog
from modeldeck.catalog.exact import quotient
from modeldeck.errors import CatalogError, CurrencyMismatch, ValidationFailed
from modeldeck.planner.costmodel import MILLION, Prices
from modeldeck.planner.options import PTU_OPTIONS, MuUnitTpm, OptionPricer, money_text
from modeldeck.planner.result import (
    OPTION_NAMES,
    CurrentCapacity,
    CurvePoint,
    OptionName,
    OptionResult,
    PlanResult,
    Sensitivity,
    TraceSummary,
)
from modeldeck.planner.trace import Trace

__all__ = ["MuUnitTpm", "plan"]


def _mode(trace: Trace, catalog: Catalog, model: str, mode: str | None) -> str:
    info = catalog.model_info(model)
    if trace.has_thinking and "thinking" not in info.modes:
        raise ValidationFailed(
            f"The trace has thinking output tokens, but {model} has no thinking mode.",
            hint=f"Plan a model with a thinking mode, or a trace of {model} without reasoning.",
        )
    if mode is None:
        return "thinking" if trace.has_thinking else info.modes[0]
    if mode not in info.modes:
        raise ValidationFailed(
            f"{model} has no {mode} mode.", hint=f"Allowed modes: {', '.join(info.modes)}."
        )
    if mode != "thinking" and trace.has_thinking:
        raise ValidationFailed(
            "The trace has thinking output tokens, which are billed at thinking prices, so it "
            f"cannot be planned in {mode} mode.",
            hint="Plan it with mode=thinking (or leave mode out).",
        )
    return mode


def _check_current(current: CurrentCapacity, rules: BillingRules) -> None:
    """Today's PTU capacity must be whole price units, as a deployment's is."""
    if current.billing not in ("hourly", "upfront"):
        return
    for word, tpm, step in (
        ("input_tpm", current.input_tpm, rules.ptu_input_step),
        ("output_tpm", current.output_tpm, rules.ptu_output_step),
    ):
        if tpm < 0 or tpm % step:
            low = max(0, tpm // step * step)
            raise ValidationFailed(
                f"The current {word}={tpm:,} is not a whole number of {step:,} TPM units.",
                hint=f"Nearest valid values: {low:,} or {low + step:,}.",
            )


def _check_coverage(coverage: Decimal | str | None) -> Decimal | None:
    if coverage is None:
        return None
    try:
        value = Decimal(str(coverage))
    except ArithmeticError:
        value = Decimal(-1)
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise ValidationFailed(
            f"coverage={coverage} is not a fraction between 0 and 1.",
            hint="E.g. coverage=0.95: at least 95% of input and of output tokens served within "
            "the reservation.",
        )
    return value


def _options(model: str, catalog: Catalog, asked: Iterable[str] | None, mu: bool) -> list[str]:
    info = catalog.model_info(model)
    wanted = list(asked) if asked is not None else list(OPTION_NAMES)
    unknown = [o for o in wanted if o not in OPTION_NAMES]
    if unknown:
        raise ValidationFailed(
            f"Unknown plan option {', '.join(map(repr, unknown))}.",
            hint=f"Options: {', '.join(OPTION_NAMES)}.",
        )
    out = []
    for name in wanted:
        if name in PTU_OPTIONS and "ptu" not in info.plans:
            continue
        if name == "mu" and ("mu" not in info.plans or not mu):
            continue
        out.append(name)
    return out


def _implications(planner: OptionPricer) -> list[str]:
    """What the list prices imply at full utilisation, per direction (PTU vs pay-as-you-go)."""
    notes: list[str] = []
    try:
        payg_in = planner.prices.get("payg", "input", planner.prices.lowest_tier())
        payg_out = planner.prices.get("payg", "output", planner.prices.lowest_tier())
        h_in, h_out = (planner.prices.get("ptu", p) for p in ("input_hourly", "output_hourly"))
        d_in, d_out = (planner.prices.get("ptu", p) for p in ("input_daily", "output_daily"))
    except (CatalogError, CurrencyMismatch):
        return notes
    for word, step, hourly, daily, payg in (
        ("input", planner.in_step, h_in, d_in, payg_in),
        ("output", planner.out_step, h_out, d_out, payg_out),
    ):
        full_hour = quotient(hourly * MILLION, step * 60)
        full_day = quotient(daily * MILLION, step * 1440)
        verdict = "never costs less than" if full_hour >= payg else "can cost less than"
        notes.append(
            f"Hourly PTU {verdict} pay-as-you-go on {word} tokens: one fully used "
            f"{step:,} TPM unit serves {step * 60:,} tokens an hour for {money_text(hourly)}, "
            f"{money_text(full_hour)} per million against {money_text(payg)}."
        )
        if full_day < payg:
            notes.append(
                f"Upfront beats pay-as-you-go on {word} only above "
                f"{_pct_of(full_day, payg)} utilisation of its capacity "
                f"({money_text(full_day)} per million when fully used)."
            )
        else:
            notes.append(f"Upfront never beats pay-as-you-go on {word} tokens at list prices.")
    if planner.coverage:
        notes.append(
            f"Teams buy PTU for guaranteed throughput: with coverage={planner.coverage} each PTU "
            "option is the cheapest capacity serving that share of input and of output tokens "
            "within the reservation; pay-as-you-go reserves nothing and does not meet it."
        )
    else:
        notes.append(
            "Teams buy PTU for guaranteed throughput, not for cheaper tokens: pass coverage=0.95 "
            "for the cheapest capacity that serves 95% of the tokens within the reservation."
        )
    return notes


def _pct_of(part: Decimal, whole: Decimal) -> str:
    value = (part * 100 / whole).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return f"{value}%"


def _summary(trace: Trace) -> TraceSummary:
    return TraceSummary(
        source=trace.source,
        start=trace.start,
        end=trace.end,
        minutes=trace.minutes,
        zero_filled_minutes=trace.zero_filled_minutes,
        input_tokens=sum(trace.input_tokens),
        output_tokens=sum(trace.output_tokens),
        thinking_output_tokens=(
            None if trace.thinking_output_tokens is None else sum(trace.thinking_output_tokens)
        ),
        peak_input_tpm=max(trace.input_tokens),
        peak_output_tpm=max(trace.output_tokens),
        request_sizes=trace.request_inputs is not None,
    )


def _rank(options: list[OptionResult]) -> OptionName | None:
    priced = sorted(
        (o for o in options if o.available and o.total is not None),
        key=lambda o: (not o.meets_coverage, o.total),
    )
    for i, opt in enumerate(priced, 1):
        opt.rank = i
    options.sort(key=lambda o: (o.rank is None, o.rank or 0))
    best = next((o for o in priced if o.meets_coverage), None)
    return best.option if best else None


def plan(
    trace: Trace,
    model: str,
    *,
    catalog: Catalog,
    rules: BillingRules = DEFAULT_RULES,
    mode: str | None = None,
    coverage: Decimal | str | None = None,
    options: Iterable[str] | None = None,
    current: CurrentCapacity | None = None,
    mu_unit_tpm: Mapping[str, MuUnitTpm] | None = None,
    growth: Decimal | str | None = Decimal("0.2"),
    curve_points: int = 200,
) -> PlanResult:
    """Price `trace` for `model` under each option, exact optimum capacities, ranked.

    `coverage` (0..1): the share of input and of output tokens each PTU option must serve within
    its reservation. `mu_unit_tpm`: TPM one model unit serves, per model (enables `mu`).
    `current`: today's capacity, for the saving against it. `growth`: the sensitivity line's
    traffic growth (None: no sensitivity line).
    """
    name = catalog.resolve_model(model)
    if trace.model is not None and catalog.resolve_model(trace.model) != name:
        raise ValidationFailed(
            f"The trace is usage of {trace.model}, not {name}.",
            hint="Plan the model the trace was recorded for (a trace is one model's usage).",
        )
    chosen_mode = _mode(trace, catalog, name, mode)
    cover = _check_coverage(coverage)
    mu_unit = (mu_unit_tpm or {}).get(name)
    if mu_unit is not None and (mu_unit.input_tpm <= 0 or mu_unit.output_tpm <= 0):
        raise ValidationFailed(
            f"mu_unit_tpm for {name} must be positive TPM in each direction.",
            hint="E.g. input_tpm = 100000, output_tpm = 10000.",
        )
    names = _options(name, catalog, options, mu_unit is not None)
    if current is not None:
        _check_current(current, rules)
    with localcontext(money_context()):
        return _plan(
            trace,
            name,
            chosen_mode,
            catalog,
            rules,
            cover,
            names,
            current,
            mu_unit,
            growth,
            curve_points,
        )


def _plan(
    trace: Trace,
    model: str,
    mode: str,
    catalog: Catalog,
    rules: BillingRules,
    coverage: Decimal | None,
    names: list[str],
    current: CurrentCapacity | None,
    mu_unit: MuUnitTpm | None,
    growth: Decimal | str | None,
    curve_points: int,
) -> PlanResult:
    planner = OptionPricer(trace, Prices(catalog, model, mode), rules, coverage, mu_unit)
    results = [planner.option(n) for n in names]  # type: ignore[arg-type]
    by_name = {o.option: o for o in results}
    payg = by_name.get("payg")
    now = planner.current(current) if current is not None else None
    for opt in results:
        if opt.total is None:
            continue
        if payg is not None and payg.total is not None:
            opt.saving_vs_payg = payg.total - opt.total
        if now is not None and now.total is not None:
            opt.saving_vs_current = now.total - opt.total
    recommended = _rank(results)
    curve: list[CurvePoint] = []
    hourly = by_name.get("hourly")
    if hourly is not None and hourly.available:
        curve = planner.curve(curve_points)
    notes = _implications(planner) if "ptu" in catalog.model_info(model).plans else []
    if trace.zero_filled_minutes:
        notes.append(
            f"{trace.zero_filled_minutes:,} of {trace.minutes:,} minutes had no data and are "
            "counted as no traffic."
        )
    result = PlanResult(
        model=model,
        mode=mode,
        currency=planner.prices.currency,
        coverage=coverage,
        trace=_summary(trace),
        options=results,
        recommended=recommended,
        current=now,
        curve=curve,
        notes=notes,
    )
    if growth is not None and Decimal(str(growth)) != 0:
        result.sensitivity = _sensitivity(result, planner, Decimal(str(growth)), names)
    return result


def _sensitivity(
    result: PlanResult, planner: OptionPricer, growth: Decimal, names: list[str]
) -> Sensitivity | None:
    """Re-plan the trace with every count times (1 + growth) and say what moves."""
    focus = result.recommended or ("hourly" if "hourly" in names else None)
    if focus is None:
        return None
    num, den = (1 + growth).as_integer_ratio()
    grown = planner.trace.scaled(num, den)
    other = OptionPricer(grown, planner.prices, planner.rules, planner.coverage, planner.mu_unit)
    again = [other.option(n) for n in names]  # type: ignore[arg-type]
    best = _rank(again)
    before = result.option(focus)
    after = next(o for o in again if o.option == focus)
    pct = f"{(growth * 100).normalize():f}%"
    if not after.available or after.total is None or before.total is None:
        return None

    def capacity(o: OptionResult) -> str:
        if o.option == "payg":
            return "no reservation"
        if o.option == "mu":
            return f"{o.units} unit{'s' if o.units != 1 else ''}"
        if o.option == "schedule":
            return f"a peak of {o.input_tpm:,} input / {o.output_tpm:,} output TPM"
        return f"{o.input_tpm:,} input / {o.output_tpm:,} output TPM"

    if capacity(before) == capacity(after):
        moved = f"stays at {capacity(after)}"
    else:
        moved = f"moves from {capacity(before)} to {capacity(after)}"
    text = (
        f"With {pct} more traffic, {focus} {moved}, "
        f"{money_text(before.total)} → {money_text(after.total)} for the trace"
    )
    if best is not None and best != result.recommended:
        text += f", and the cheapest option becomes {best}"
    elif best is not None:
        text += f"; {best} stays the cheapest"
    return Sensitivity(
        growth=growth,
        option=focus,
        input_tpm=after.input_tpm,
        output_tpm=after.output_tpm,
        units=after.units,
        total=after.total,
        recommended=best,
        text=text + ".",
    )
