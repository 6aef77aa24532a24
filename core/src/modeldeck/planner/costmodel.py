"""The planner's cost model (docs/planner.md): the prices it needs and the loads it prices.

A trace of M minutes; a reservation costs M/60 hours at the hourly price or ⌈M/1440⌉ days at the
daily upfront price per unit; tokens above the capacity in a minute are billed at the model's
pay-as-you-go price of its lowest tier, or of each request's tier when the trace lists request
sizes. Prices come from the catalog (contract overrides included); one not listed is an error.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from modeldeck.billing.rules import BillingRules
from modeldeck.catalog import Catalog
from modeldeck.catalog.exact import quotient
from modeldeck.planner.optimizer import Load, SummedLoad
from modeldeck.planner.trace import Trace
from modeldeck.timeutil import BEIJING

MILLION = 1_000_000
MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class Span:
    """What the trace's length bills: hours (exact M/60) and started days (⌈M/1440⌉)."""

    minutes: int

    @property
    def hours(self) -> Decimal:
        return quotient(self.minutes, 60)

    @property
    def days(self) -> int:
        return -(-self.minutes // MINUTES_PER_DAY)

    def hourly(self, price: Decimal, minutes: int | None = None) -> Decimal:
        """One unit at an hourly price for the span (or for `minutes` of it)."""
        return quotient(price * (self.minutes if minutes is None else minutes), 60)

    def daily(self, price: Decimal) -> Decimal:
        return price * self.days


class Prices:
    """The prices of one model in one mode, in one currency (converted with configured rates)."""

    def __init__(self, catalog: Catalog, model: str, mode: str) -> None:
        self.catalog, self.model, self.mode = catalog, model, mode
        currencies = {
            e.currency
            for plan, names in (
                ("ptu", ("input_hourly", "output_hourly", "input_daily", "output_daily")),
                ("mu", ("unit_hourly",)),
                ("payg", ("input", "output")),
            )
            for name in names
            for tier in ([t.name for t in catalog.tiers(model, mode)] if plan == "payg" else [None])
            if (e := catalog.entry(model, mode, plan, name, tier)) is not None
        }
        self.currency = currencies.pop() if len(currencies) == 1 else "USD"

    def get(self, plan: str, price: str, tier: str | None = None) -> Decimal:
        """A listed price in the plan's currency; PriceNotListed (with an override hint) if not."""
        entry = self.catalog.price(self.model, self.mode, plan, price, tier)
        assert entry.amount is not None
        return self.catalog.convert(entry.amount, entry.currency, self.currency)

    def payg_per_token(self, price: str, tier: str | None = None) -> Decimal:
        return quotient(self.get("payg", price, tier or self.lowest_tier()), MILLION)

    def lowest_tier(self) -> str:
        tiers = self.catalog.tiers(self.model, self.mode)
        if not tiers:
            self.catalog.payg_tier(self.model, self.mode, 0)  # raises PriceNotListed
        return tiers[0].name


@dataclass(frozen=True)
class Loads:
    """Input and output loads of a trace (or of a subset of its minutes), priced at PAYG rates."""

    input: Load
    output: Load


def _request_rates(
    trace: Trace, prices: Prices, minutes: list[int]
) -> tuple[list[Decimal], list[Decimal]]:
    """Per-minute PAYG rates weighted by each request's input tokens at its tier."""
    assert trace.request_inputs is not None
    tiers = prices.catalog.tiers(prices.model, prices.mode)
    highs = [t.high if t.high is not None else 2**62 for t in tiers]
    low_in, low_out = prices.payg_per_token("input"), prices.payg_per_token("output")
    cache: dict[int, tuple[Decimal, Decimal]] = {}

    def tier_rates(index: int) -> tuple[Decimal, Decimal]:
        if index not in cache:
            if index >= len(tiers):
                prices.catalog.payg_tier(prices.model, prices.mode, highs[-1] + 1)  # raises
            name = tiers[index].name
            cache[index] = (
                prices.payg_per_token("input", name),
                prices.payg_per_token("output", name),
            )
        return cache[index]

    in_rates: list[Decimal] = []
    out_rates: list[Decimal] = []
    for i in minutes:
        sizes = trace.request_inputs[i]
        total = sum(sizes)
        if not sizes or total == 0:
            in_rates.append(low_in)
            out_rates.append(low_out)
            continue
        weights: dict[int, int] = {}
        for size in sizes:
            index = bisect_left(highs, size)
            weights[index] = weights.get(index, 0) + size
        if len(weights) == 1:
            rin, rout = tier_rates(next(iter(weights)))
        else:
            rin = quotient(sum(w * tier_rates(t)[0] for t, w in weights.items()), total)
            rout = quotient(sum(w * tier_rates(t)[1] for t, w in weights.items()), total)
        in_rates.append(rin)
        out_rates.append(rout)
    return in_rates, out_rates


def _load(values: list[int], rates: list[Decimal]) -> Load:
    """A load at one rate when every minute has the same (faster), else per-minute rates."""
    distinct = set(rates)
    if len(distinct) == 1:
        return Load(values, rate=distinct.pop())
    return Load(values, rates=rates)


def loads(trace: Trace, prices: Prices, minutes: HourMinutes | None = None) -> Loads:
    """The trace's loads over `minutes` (all by default); PriceNotListed if PAYG is unlisted."""
    if minutes is None:
        ins, outs = trace.input_tokens, trace.output_tokens
    else:
        ins, outs = minutes.take(trace.input_tokens), minutes.take(trace.output_tokens)
    if trace.request_inputs is not None:
        index = list(range(trace.minutes) if minutes is None else minutes)
        if any(trace.request_inputs[i] for i in index):
            in_rates, out_rates = _request_rates(trace, prices, index)
            return Loads(_load(ins, in_rates), _load(outs, out_rates))
    return Loads(
        Load(ins, rate=prices.payg_per_token("input")),
        Load(outs, rate=prices.payg_per_token("output")),
    )


class HourMinutes:
    """The minute indexes of one Beijing hour of the day: runs of consecutive minutes."""

    def __init__(self) -> None:
        self.runs: list[range] = []
        self.count = 0

    def add(self, run: range) -> None:
        self.runs.append(run)
        self.count += len(run)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[int]:
        for run in self.runs:
            yield from run

    def take(self, values: list[int]) -> list[int]:
        """`values` at these minutes, by slicing each run (no per-minute Python work)."""
        out: list[int] = []
        for run in self.runs:
            out.extend(values[run.start : run.stop])
        return out


def beijing_hours(trace: Trace) -> dict[int, HourMinutes]:
    """The trace's minutes by hour of the Beijing day (runs of up to 60 minutes)."""
    first = trace.start.astimezone(BEIJING)
    total = trace.minutes
    i = -(first.minute)  # index of the start of the first hour (may be before the trace)
    hour = first.hour
    groups: dict[int, HourMinutes] = {}
    while i < total:
        group = groups.get(hour)
        if group is None:
            group = groups[hour] = HourMinutes()
        start, stop = i if i > 0 else 0, i + 60 if i + 60 < total else total
        group.runs.append(range(start, stop))
        group.count += stop - start
        i += 60
        hour = hour + 1 if hour < 23 else 0
    return groups


def loads_by_hour(
    trace: Trace, prices: Prices, groups: dict[int, HourMinutes]
) -> tuple[Loads, dict[int, Loads]]:
    """The whole trace's loads and each Beijing hour's, sorting each minute only once.

    Each hour's minutes are sorted on their own; the whole trace is the sum of its hours
    (`SummedLoad`), so its minutes are not merged and sorted again.
    """
    if trace.request_inputs is not None and any(trace.request_inputs):
        return loads(trace, prices), {h: loads(trace, prices, g) for h, g in groups.items()}
    rate_in, rate_out = prices.payg_per_token("input"), prices.payg_per_token("output")
    hours: dict[int, Loads] = {}
    for hour, group in groups.items():
        ins, outs = group.take(trace.input_tokens), group.take(trace.output_tokens)
        ins.sort()  # fresh lists: sorted in place, not copied again
        outs.sort()
        hours[hour] = Loads(
            Load(ins, rate=rate_in, presorted=True), Load(outs, rate=rate_out, presorted=True)
        )
    whole = Loads(
        SummedLoad([h.input for h in hours.values()], rate=rate_in),
        SummedLoad([h.output for h in hours.values()], rate=rate_out),
    )
    return whole, hours


def unit_steps(rules: BillingRules) -> tuple[int, int]:
    """TPM of one input and one output price unit."""
    return rules.ptu_input_step, rules.ptu_output_step
