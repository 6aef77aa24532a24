"""Pricing each option of a plan: the shared pieces (trace, prices, loads) and one method each.

`OptionPricer` prices `payg`, `hourly`, `upfront`, `schedule` and `mu` for one trace, model and
mode under the cost model of docs/planner.md. Each PTU capacity is the exact optimum found by
`optimizer`, and a price that is not listed makes the option unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cached_property

from pydantic import BaseModel, ConfigDict

from modeldeck.billing.rules import BillingRules
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
    CurrentCapacity,
    CurvePoint,
    OptionName,
    OptionResult,
    ScheduleHour,
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


def money_text(amount: Decimal) -> str:
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


class OptionPricer:
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
                billing=BILLING[name],
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
            f"{cap:,} TPM; one more {unit} unit costs {money_text(per_hour)}/h and saves "
            f"{money_text(saves)}/h of overflow"
        )
        if chosen.units > chosen.least:
            adds = quotient(load.overflow_cost(cap - step) - chosen.overflow, hours)
            text += f"; one unit fewer saves {money_text(per_hour)}/h but adds {money_text(adds)}/h"
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
                f"each (configured); one more unit costs {money_text(per_hour)}/h and saves "
                f"{money_text(saves)}/h of overflow."
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


BILLING: dict[str, str] = {
    "payg": "payg",
    "hourly": "hourly",
    "upfront": "upfront",
    "schedule": "hourly",
    "mu": "hourly",
}
