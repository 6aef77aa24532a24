"""`plan`: price a usage trace under every way of buying capacity and recommend the cheapest.

Each PTU option's capacity is the exact optimum of the cost model (docs/planner.md) over whole
units, found per direction with `optimizer` (input and output are separable), subject to the
coverage asked for. Prices not listed make an option unavailable with the catalog's error and
its override hint — never $0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from functools import cached_property

from pydantic import BaseModel, ConfigDict

from modeldeck.billing.rules import DEFAULT_RULES, BillingRules, money_context
from modeldeck.catalog import Catalog
from modeldeck.catalog.exact import quotient
from modeldeck.errors import CatalogError, CurrencyMismatch, ValidationFailed
from modeldeck.money import round_cents
from modeldeck.planner.costmodel import (
    MILLION,
    HourMinutes,
    Loads,
    Prices,
    Span,
    beijing_hours,
    loads_by_hour,
    unit_steps,
)
from modeldeck.planner.optimizer import Load, argmin_convex, best_units, coverage_units
from modeldeck.planner.result import (
    OPTION_NAMES,
    CurrentCapacity,
    CurvePoint,
    OptionName,
    OptionResult,
    PlanResult,
    ScheduleHour,
    Sensitivity,
    TraceSummary,
)
from modeldeck.planner.trace import Trace

PER_MILLION_PLACES = Decimal("0.0001")
PTU_OPTIONS: tuple[OptionName, ...] = ("hourly", "upfront", "schedule")


class MuUnitTpm(BaseModel):
    """How many TPM one model unit serves for a model (configuration, not a catalog fact)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_tpm: int
    output_tpm: int


@dataclass(frozen=True)
class Pick:
    """The chosen capacity of one direction and what it costs (exact)."""

    units: int
    tpm: int
    reserved: Decimal
    overflow: Decimal
    served: int
    least: int  # the fewest units coverage allows

    @property
    def total(self) -> Decimal:
        return self.reserved + self.overflow


def pick(load: Load, step: int, unit_cost: Decimal, coverage: Decimal | None) -> Pick:
    """The exact cheapest whole-unit capacity (≥ 1 unit) meeting `coverage` for one direction."""
    least = coverage_units(load, step, coverage, 1)
    units = best_units(load, step, unit_cost, least)
    tpm = units * step
    return Pick(units, tpm, units * unit_cost, load.overflow_cost(tpm), load.served(tpm), least)


def _money(amount: Decimal) -> str:
    """$0.87 for amounts of a cent or more, $0.0042 below (so a marginal figure never reads $0)."""
    if amount == 0 or abs(amount) >= Decimal("0.01"):
        return f"${round_cents(amount):,}"
    return f"${amount.quantize(PER_MILLION_PLACES, rounding=ROUND_HALF_UP)}"


def _share(part: int, whole: int) -> Decimal:
    """The served share, rounded down to 4 places so it never overstates coverage."""
    value = Decimal(1) if whole == 0 else Decimal(part) / whole
    return value.quantize(PER_MILLION_PLACES, rounding=ROUND_DOWN)


def _pct(part: int, whole: int) -> str:
    value = Decimal(0) if whole == 0 else Decimal(100 * part) / whole
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP).normalize():f}%"


class _Planner:
    """One trace, model and mode: the shared pieces every option is priced from."""

    def __init__(
        self,
        trace: Trace,
        prices: Prices,
        rules: BillingRules,
        coverage: Decimal | None,
        mu_unit: MuUnitTpm | None,
    ) -> None:
        self.trace, self.prices, self.rules = trace, prices, rules
        self.coverage, self.mu_unit = coverage, mu_unit
        self.span = Span(trace.minutes)
        self.in_step, self.out_step = unit_steps(rules)
        self._loads: tuple[Loads, dict[int, Loads]] | None = None

    @property
    def loads(self) -> Loads:
        """The whole trace's input and output loads (built once, with each hour's)."""
        if self._loads is None:
            self._loads = loads_by_hour(self.trace, self.prices, self.hour_minutes)
        return self._loads[0]

    @cached_property
    def hour_minutes(self) -> dict[int, HourMinutes]:
        """The trace's minutes by Beijing hour of the day."""
        return beijing_hours(self.trace)

    @property
    def hour_loads(self) -> dict[int, Loads]:
        """Each Beijing hour of the day's loads, for the schedule."""
        self.loads  # noqa: B018 - builds both
        assert self._loads is not None
        return self._loads[1]

    @property
    def tokens(self) -> int:
        return self.loads.input.total + self.loads.output.total

    # ------------------------------------------------------------------ options
    def option(self, name: OptionName) -> OptionResult:
        """One option priced, or unavailable with the reason (a price not listed...)."""
        try:
            result: OptionResult = getattr(self, f"_{name}")()
            return result
        except (CatalogError, CurrencyMismatch) as exc:
            return OptionResult(
                option=name,
                billing=_BILLING[name],
                available=False,
                error=str(exc),
                currency=self.prices.currency,
            )

    def _finish(self, result: OptionResult, reserved: Decimal, overflow: Decimal) -> OptionResult:
        total = reserved + overflow
        result.reserved, result.overflow = round_cents(reserved), round_cents(overflow)
        result.total = round_cents(total)
        result.currency = self.prices.currency
        if self.tokens:
            per_million = total * MILLION / self.tokens
            result.effective_per_million = per_million.quantize(
                PER_MILLION_PLACES, rounding=ROUND_HALF_UP
            )
        return result

    def _payg(self) -> OptionResult:
        lin, lout = self.loads.input, self.loads.output
        result = OptionResult(
            option="payg",
            billing="payg",
            input_tpm=0,
            output_tpm=0,
            served_input=_share(0, lin.total) if lin.total else Decimal(1),
            served_output=_share(0, lout.total) if lout.total else Decimal(1),
            meets_coverage=self._meets(0, 0),
            reasoning=["No reservation: every token at the pay-as-you-go price."],
        )
        if not result.meets_coverage:
            result.reasoning.append(
                f"Does not meet coverage={self.coverage}: nothing is served within a reservation."
            )
        return self._finish(result, Decimal(0), lin.overflow_cost(0) + lout.overflow_cost(0))

    def _meets(self, served_in: int, served_out: int) -> bool:
        if self.coverage is None or self.coverage <= 0:
            return True
        return (
            served_in >= self.coverage * self.loads.input.total
            and served_out >= self.coverage * self.loads.output.total
        )

    def unit_costs(self, billing: str) -> tuple[Decimal, Decimal]:
        """Reservation cost of one input and one output unit over the trace's span."""
        if billing == "hourly":
            return (
                self.span.hourly(self.prices.get("ptu", "input_hourly")),
                self.span.hourly(self.prices.get("ptu", "output_hourly")),
            )
        return (
            self.span.daily(self.prices.get("ptu", "input_daily")),
            self.span.daily(self.prices.get("ptu", "output_daily")),
        )

    def reservation(self, billing: str, in_units: int, out_units: int) -> Decimal:
        """The exact reservation cost of constant capacity over the span (one division)."""
        if billing == "hourly":
            per_hour = in_units * self.prices.get("ptu", "input_hourly")
            per_hour += out_units * self.prices.get("ptu", "output_hourly")
            return quotient(per_hour * self.span.minutes, 60)
        per_day = in_units * self.prices.get("ptu", "input_daily")
        per_day += out_units * self.prices.get("ptu", "output_daily")
        return per_day * self.span.days

    def picks(self, billing: str) -> tuple[Pick, Pick]:
        cin, cout = self.unit_costs(billing)
        return (
            pick(self.loads.input, self.in_step, cin, self.coverage),
            pick(self.loads.output, self.out_step, cout, self.coverage),
        )

    def _constant(self, name: OptionName) -> OptionResult:
        cin, cout = self.unit_costs(name)
        pin, pout = self.picks(name)
        result = OptionResult(
            option=name,
            billing=name,
            input_tpm=pin.tpm,
            output_tpm=pout.tpm,
            served_input=_share(pin.served, self.loads.input.total),
            served_output=_share(pout.served, self.loads.output.total),
            meets_coverage=self._meets(pin.served, pout.served),
            reasoning=[
                self._why("input", self.loads.input, self.in_step, cin, pin, "10k"),
                self._why("output", self.loads.output, self.out_step, cout, pout, "1k"),
            ],
        )
        reserved = self.reservation(name, pin.units, pout.units)
        return self._finish(result, reserved, pin.overflow + pout.overflow)

    def _hourly(self) -> OptionResult:
        return self._constant("hourly")

    def _upfront(self) -> OptionResult:
        result = self._constant("upfront")
        days = self.span.days
        result.reasoning.append(
            f"Upfront buys {days} whole day{'s' if days != 1 else ''} "
            f"(⌈{self.trace.minutes:,} minutes / 1,440⌉) for the trace."
        )
        return result

    def _why(
        self, word: str, load: Load, step: int, unit_cost: Decimal, chosen: Pick, unit: str
    ) -> str:
        """The marginal reasoning behind one direction's capacity, per hour of the trace."""
        hours = self.span.hours
        cap = chosen.tpm
        per_hour = quotient(unit_cost, hours)
        saves = quotient(chosen.overflow - load.overflow_cost(cap + step), hours)
        text = (
            f"{word.capitalize()}: {_pct(load.minutes_above(cap), load.n)} of minutes exceed "
            f"{cap:,} TPM; one more {unit} unit costs {_money(per_hour)}/h and saves "
            f"{_money(saves)}/h of overflow"
        )
        if chosen.units > chosen.least:
            adds = quotient(load.overflow_cost(cap - step) - chosen.overflow, hours)
            text += f"; one unit fewer saves {_money(per_hour)}/h but adds {_money(adds)}/h"
        elif chosen.least > 1:
            free = best_units(load, step, unit_cost, 1)
            if free < chosen.least:
                text += (
                    f"; coverage={self.coverage} needs at least {cap:,} TPM (cheapest without "
                    f"it: {free * step:,} TPM)"
                )
        elif chosen.units == 1:
            text += "; 1 unit is the least a reservation holds"
        return text + "."

    def _schedule(self) -> OptionResult:
        p_in = self.prices.get("ptu", "input_hourly")
        p_out = self.prices.get("ptu", "output_hourly")
        groups = self.hour_minutes
        overflow = Decimal(0)
        served_in = served_out = in_unit_minutes = out_unit_minutes = 0
        hours: list[ScheduleHour] = []
        for hour in range(24):
            minutes = groups.get(hour)
            if not minutes:
                hours.append(
                    ScheduleHour(
                        hour=hour, minutes=0, input_tpm=self.in_step, output_tpm=self.out_step
                    )
                )
                continue
            part = self.hour_loads[hour]
            pin = pick(
                part.input, self.in_step, self.span.hourly(p_in, len(minutes)), self.coverage
            )
            pout = pick(
                part.output, self.out_step, self.span.hourly(p_out, len(minutes)), self.coverage
            )
            in_unit_minutes += pin.units * len(minutes)
            out_unit_minutes += pout.units * len(minutes)
            overflow += pin.overflow + pout.overflow
            served_in += pin.served
            served_out += pout.served
            hours.append(
                ScheduleHour(
                    hour=hour, minutes=len(minutes), input_tpm=pin.tpm, output_tpm=pout.tpm
                )
            )
        used = [h for h in hours if h.minutes]
        peak = max(used, key=lambda h: (h.input_tpm, h.output_tpm))
        low = min(used, key=lambda h: (h.input_tpm, h.output_tpm))
        if (low.input_tpm, low.output_tpm) == (peak.input_tpm, peak.output_tpm):
            spread = (
                f"{peak.input_tpm:,} input / {peak.output_tpm:,} output TPM in every hour, so a "
                "schedule saves nothing over constant hourly capacity"
            )
        else:
            spread = (
                f"from {low.input_tpm:,} input / {low.output_tpm:,} output TPM at "
                f"{low.hour:02d}:00 to {peak.input_tpm:,} / {peak.output_tpm:,} at "
                f"{peak.hour:02d}:00 (Beijing)"
            )
        reasoning = [
            f"Capacity per hour of the Beijing day, each hour optimised on its own minutes: "
            f"{spread}.",
        ]
        if self.coverage:
            reasoning.append(f"coverage={self.coverage} is met in every hour of the day.")
        result = OptionResult(
            option="schedule",
            billing="hourly",
            input_tpm=peak.input_tpm,
            output_tpm=max(h.output_tpm for h in used),
            schedule=hours,
            served_input=_share(served_in, self.loads.input.total),
            served_output=_share(served_out, self.loads.output.total),
            meets_coverage=self._meets(served_in, served_out),
            reasoning=reasoning,
        )
        reserved = quotient(p_in * in_unit_minutes + p_out * out_unit_minutes, 60)
        return self._finish(result, reserved, overflow)

    def mu_cost(self, units: int) -> tuple[Decimal, Decimal]:
        assert self.mu_unit is not None
        reserved = self.span.hourly(units * self.prices.get("mu", "unit_hourly"))
        over = self.loads.input.overflow_cost(units * self.mu_unit.input_tpm)
        over += self.loads.output.overflow_cost(units * self.mu_unit.output_tpm)
        return reserved, over

    def _mu(self) -> OptionResult:
        assert self.mu_unit is not None
        a, b = self.mu_unit.input_tpm, self.mu_unit.output_tpm
        lin, lout = self.loads.input, self.loads.output
        least = max(coverage_units(lin, a, self.coverage), coverage_units(lout, b, self.coverage))
        hi = max(least, lin.units_to_clear(a), lout.units_to_clear(b))
        units = argmin_convex(lambda u: sum(self.mu_cost(u), Decimal(0)), least, hi)
        reserved, over = self.mu_cost(units)
        per_hour = quotient(self.mu_cost(1)[0], self.span.hours)
        saves = quotient(over - self.mu_cost(units + 1)[1], self.span.hours)
        result = OptionResult(
            option="mu",
            billing="hourly",
            units=units,
            input_tpm=units * a,
            output_tpm=units * b,
            served_input=_share(lin.served(units * a), lin.total),
            served_output=_share(lout.served(units * b), lout.total),
            meets_coverage=self._meets(lin.served(units * a), lout.served(units * b)),
            reasoning=[
                f"{units} model unit{'s' if units != 1 else ''} at {a:,} input / {b:,} output TPM "
                f"each (configured); one more unit costs {_money(per_hour)}/h and saves "
                f"{_money(saves)}/h of overflow."
            ],
        )
        return self._finish(result, reserved, over)

    def current(self, now: CurrentCapacity) -> OptionResult:
        """The trace priced under today's capacity (no optimisation)."""
        try:
            if now.billing == "payg":
                result = self._payg()
            elif now.billing == "mu":
                if self.mu_unit is None:
                    raise ValidationFailed(
                        "The current capacity is in model units, but no TPM per unit is "
                        "configured for this model.",
                        hint="Pass mu_unit_tpm for the model.",
                    )
                reserved, over = self.mu_cost(now.units)
                result = self._finish(
                    OptionResult(option="mu", billing="hourly", units=now.units), reserved, over
                )
            else:
                lin, lout = self.loads.input, self.loads.output
                reserved = self.reservation(
                    now.billing, now.input_tpm // self.in_step, now.output_tpm // self.out_step
                )
                over = lin.overflow_cost(now.input_tpm) + lout.overflow_cost(now.output_tpm)
                result = self._finish(
                    OptionResult(
                        option=now.billing,
                        billing=now.billing,
                        input_tpm=now.input_tpm,
                        output_tpm=now.output_tpm,
                        served_input=_share(lin.served(now.input_tpm), lin.total),
                        served_output=_share(lout.served(now.output_tpm), lout.total),
                        meets_coverage=self._meets(
                            lin.served(now.input_tpm), lout.served(now.output_tpm)
                        ),
                    ),
                    reserved,
                    over,
                )
        except (CatalogError, CurrencyMismatch) as exc:
            return OptionResult(
                option="payg" if now.billing == "payg" else "hourly",
                billing=now.billing,
                available=False,
                error=str(exc),
            )
        result.reasoning = ["What the deployment runs today, priced on the same trace."]
        return result

    def curve(self, points: int) -> list[CurvePoint]:
        """Cost of the hourly option against input capacity (output at its optimum)."""
        pin, pout = self.picks("hourly")
        top = max(self.loads.input.units_to_clear(self.in_step), pin.units) + 1
        stride = max(1, -(-top // max(1, points)))
        ks = sorted(set(range(1, top + 1, stride)) | {pin.units, top})
        out: list[CurvePoint] = []
        for k in ks:
            tpm = k * self.in_step
            reserved = self.reservation("hourly", k, pout.units)
            over = self.loads.input.overflow_cost(tpm) + pout.overflow
            out.append(
                CurvePoint(
                    input_tpm=tpm,
                    reserved=round_cents(reserved),
                    overflow=round_cents(over),
                    total=round_cents(reserved + over),
                )
            )
        return out


_BILLING: dict[str, str] = {
    "payg": "payg",
    "hourly": "hourly",
    "upfront": "upfront",
    "schedule": "hourly",
    "mu": "hourly",
}


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


def _implications(planner: _Planner) -> list[str]:
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
            f"{step:,} TPM unit serves {step * 60:,} tokens an hour for {_money(hourly)}, "
            f"{_money(full_hour)} per million against {_money(payg)}."
        )
        if full_day < payg:
            notes.append(
                f"Upfront beats pay-as-you-go on {word} only above "
                f"{_pct_of(full_day, payg)} utilisation of its capacity "
                f"({_money(full_day)} per million when fully used)."
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
    planner = _Planner(trace, Prices(catalog, model, mode), rules, coverage, mu_unit)
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
    result: PlanResult, planner: _Planner, growth: Decimal, names: list[str]
) -> Sensitivity | None:
    """Re-plan the trace with every count times (1 + growth) and say what moves."""
    focus = result.recommended or ("hourly" if "hourly" in names else None)
    if focus is None:
        return None
    num, den = (1 + growth).as_integer_ratio()
    grown = planner.trace.scaled(num, den)
    other = _Planner(grown, planner.prices, planner.rules, planner.coverage, planner.mu_unit)
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
        f"{_money(before.total)} → {_money(after.total)} for the trace"
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
