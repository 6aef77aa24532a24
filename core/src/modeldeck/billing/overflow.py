"""Overflow pricing: calls billed at the pay-as-you-go price of their input-length tier.

A call served beyond the purchased TPM (header `x-dashscope-ptu-overflow: true`) or whose input
exceeds the model's max input is billed as an ordinary pay-as-you-go call: all its tokens at the
tier of its input length. `rollup_overflow` prices many calls per deployment per Beijing day with
exact integer arithmetic, giving the same totals as pricing each call with Decimal.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, localcontext
from itertools import compress, pairwise, repeat
from operator import ge, not_
from typing import Any

from modeldeck.billing.rules import money_context
from modeldeck.catalog import Catalog, PriceEntry, override_hint
from modeldeck.errors import CatalogError, PriceNotListed, ValidationFailed

MILLION = 1_000_000
BEIJING_OFFSET_SECONDS = 8 * 3600  # Asia/Shanghai has had no daylight saving time since 1991
DAY_SECONDS = 86_400
_EPOCH = date(1970, 1, 1)
UNBOUNDED = 2**62  # the upper bound of an open-ended tier


def price_mode(mode: str, reasoning_tokens: int) -> str:
    """The mode a call is priced in: thinking when the deployment thinks or the call reasoned."""
    return "thinking" if mode == "thinking" or reasoning_tokens > 0 else mode


@dataclass(frozen=True)
class TierRates:
    """PAYG rates of one model and mode, by tier: exact integers at a common decimal scale."""

    model: str
    mode: str
    currency: str
    highs: list[int]  # inclusive upper bound of each tier (the last may be unbounded: -1)
    names: list[str]
    input_rates: list[Decimal]
    output_rates: list[Decimal]
    scale: int  # rate = scaled_rate / 10**scale
    input_scaled: list[int] = field(default_factory=list)
    output_scaled: list[int] = field(default_factory=list)

    def tier_index(self, input_tokens: int) -> int:
        """Index of the tier for this input length; CatalogError beyond the highest tier."""
        index = bisect_left(self.highs, input_tokens)
        if index < len(self.highs):
            return index
        raise CatalogError(
            f"No pay-as-you-go tier of {self.model} ({self.mode}) covers {input_tokens:,} input "
            f"tokens; the highest tier ends at {self.highs[-1]:,}.",
            hint='Add a tier for it in modeldeck.toml [[catalog.prices]] with plan = "payg".',
        )


def _listed(
    entry: PriceEntry | None, catalog: Catalog, model: str, mode: str, price: str, tier: str
) -> PriceEntry:
    if entry is None or entry.amount is None:
        return catalog.price(model, mode, "payg", price, tier)  # raises PriceNotListed
    return entry


def tier_rates(catalog: Catalog, model: str, mode: str) -> TierRates:
    """The PAYG rate table of a model and mode (cached on the catalog)."""
    cache: dict[tuple[str, str], TierRates] = catalog.__dict__.setdefault("_tier_rates", {})
    key = (model, mode)
    if key in cache:
        return cache[key]
    tiers = catalog.tiers(model, mode)
    if not tiers:
        raise PriceNotListed(
            f"No pay-as-you-go prices are listed for {model} in {mode} mode, so its overflow "
            "calls cannot be priced (they are never taken as $0).",
            hint=override_hint(model, "payg", mode, "input", "all"),
        )
    for lower, upper in pairwise(tiers):
        if lower.high != upper.low:
            raise CatalogError(
                f"The pay-as-you-go tiers of {model} ({mode}) leave a gap between "
                f"{lower.name} and {upper.name}.",
                hint="Make each tier start where the previous one ends.",
            )
    ins = [
        _listed(
            catalog.entry(model, mode, "payg", "input", t.name),
            catalog,
            model,
            mode,
            "input",
            t.name,
        )
        for t in tiers
    ]
    outs = [
        _listed(
            catalog.entry(model, mode, "payg", "output", t.name),
            catalog,
            model,
            mode,
            "output",
            t.name,
        )
        for t in tiers
    ]
    currency = ins[0].currency
    in_rates = [catalog.convert(_amount(e), e.currency, currency) for e in ins]
    out_rates = [catalog.convert(_amount(e), e.currency, currency) for e in outs]
    scale = max(max(0, -int(r.as_tuple().exponent)) for r in in_rates + out_rates)
    factor = Decimal(10) ** scale
    table = TierRates(
        model=model,
        mode=mode,
        currency=currency,
        highs=[t.high if t.high is not None else UNBOUNDED for t in tiers],
        names=[t.name for t in tiers],
        input_rates=in_rates,
        output_rates=out_rates,
        scale=scale,
        input_scaled=[int(r * factor) for r in in_rates],
        output_scaled=[int(r * factor) for r in out_rates],
    )
    cache[key] = table
    return table


def _amount(entry: PriceEntry) -> Decimal:
    assert entry.amount is not None
    return entry.amount


def _check_tokens(input_tokens: int, output_tokens: int, reasoning_tokens: int) -> None:
    for name, value in (
        ("input_tokens", input_tokens),
        ("output_tokens", output_tokens),
        ("reasoning_tokens", reasoning_tokens),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValidationFailed(f"{name} must be a whole number of tokens, 0 or more.")
    if reasoning_tokens > output_tokens:
        raise ValidationFailed(
            f"reasoning_tokens ({reasoning_tokens:,}) exceeds output_tokens ({output_tokens:,}).",
            hint="output_tokens is usage.completion_tokens, which includes the reasoning tokens.",
        )


def price_overflow_call(
    model: str,
    mode: str,
    input_tokens: int,
    output_tokens: int,
    reasoning_tokens: int,
    catalog: Catalog,
) -> Decimal:
    """The exact PAYG price of one call, all tokens at its input-length tier.

    `output_tokens` is the completion count (it includes `reasoning_tokens`); a call with
    reasoning tokens is priced at the thinking output price.
    """
    _check_tokens(input_tokens, output_tokens, reasoning_tokens)
    canonical = catalog.resolve_model(model)
    table = tier_rates(catalog, canonical, price_mode(mode, reasoning_tokens))
    index = table.tier_index(input_tokens)
    scaled = input_tokens * table.input_scaled[index] + output_tokens * table.output_scaled[index]
    return Decimal(scaled).scaleb(-(table.scale + 6))


def is_billable_overflow(overflow_header: bool, input_tokens: int, max_input: int | None) -> bool:
    """Whether a call is billed per token: flagged as overflow, or longer than the max input."""
    return overflow_header or (max_input is not None and input_tokens > max_input)


# --------------------------------------------------------------------------- batched roll-up


@dataclass
class DeploymentOverflow:
    """Columns of one deployment's billable overflow calls (`at` in epoch seconds, UTC).

    Best given in time order (as a store query returns them); other orders are sorted first.
    Token counts are the non-negative counts of usage records (validated where the records are
    made, e.g. `OverflowCall`; not re-checked here). `reasoning_tokens` only selects the price:
    a call with reasoning tokens is priced at the thinking prices.
    """

    deployment: str
    model: str
    mode: str
    at: Sequence[int]
    input_tokens: Sequence[int]
    output_tokens: Sequence[int]
    reasoning_tokens: Sequence[int] | None = None


@dataclass(frozen=True)
class OverflowDay:
    """What one deployment's overflow calls cost on one Beijing calendar day."""

    deployment: str
    day: date
    calls: int
    input_tokens: int
    output_tokens: int
    amount: Decimal
    currency: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "day": self.day.isoformat(),
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "amount": str(self.amount),
            "currency": self.currency,
        }


def beijing_day(epoch_seconds: int) -> date:
    """The Beijing calendar day of an instant given in epoch seconds."""
    return _EPOCH + timedelta(days=(epoch_seconds + BEIJING_OFFSET_SECONDS) // DAY_SECONDS)


def _as_list(values: Sequence[int]) -> list[int]:
    return values if isinstance(values, list) else list(values)


def _columns(batch: DeploymentOverflow) -> tuple[list[int], list[int], list[int], list[int]]:
    at, ins, outs = _as_list(batch.at), _as_list(batch.input_tokens), _as_list(batch.output_tokens)
    reasons = _as_list(batch.reasoning_tokens) if batch.reasoning_tokens is not None else []
    if not (len(at) == len(ins) == len(outs)) or (reasons and len(reasons) != len(at)):
        raise ValidationFailed(f"Overflow columns of {batch.deployment} have different lengths.")
    return at, ins, outs, reasons


def _in_time_order(
    at: list[int], ins: list[int], outs: list[int], reasons: list[int]
) -> tuple[list[int], list[int], list[int], list[int]]:
    order = sorted(range(len(at)), key=at.__getitem__)
    return (
        [at[i] for i in order],
        [ins[i] for i in order],
        [outs[i] for i in order],
        [reasons[i] for i in order] if reasons else [],
    )


def _scaled_cost(
    table: TierRates, ins: list[int], outs: list[int], all_in: int, all_out: int
) -> int:
    """Scaled cost of calls priced with one rate table: per-tier token sums x integer rates.

    `all_in`/`all_out` are the sums of `ins`/`outs`. The calls of tier t are those with
    input <= high(t) minus those with input <= high(t-1), so each tier costs a C-level
    filter/compress pass instead of Python work per call. Inputs beyond the highest tier are
    refused (CatalogError).
    """
    if not ins:
        return 0
    highs = table.highs
    if len(highs) == 1:
        if highs[0] != UNBOUNDED:
            table.tier_index(max(ins))
        return all_in * table.input_scaled[0] + all_out * table.output_scaled[0]
    top = max(ins)
    table.tier_index(top)
    total = below_in = below_out = 0
    for index, high in enumerate(highs):
        last = index == len(highs) - 1 or top <= high
        if last:
            upto_in, upto_out = all_in, all_out
        else:
            within = list(map(ge, repeat(high), ins))
            upto_in, upto_out = sum(compress(ins, within)), sum(compress(outs, within))
        total += (upto_in - below_in) * table.input_scaled[index]
        total += (upto_out - below_out) * table.output_scaled[index]
        below_in, below_out = upto_in, upto_out
        if last:
            break
    return total


def rollup_overflow(batches: Sequence[DeploymentOverflow], catalog: Catalog) -> list[OverflowDay]:
    """Price every call and total them per deployment per Beijing day (exact, batched).

    Per deployment, calls are taken in time order and cut into Beijing days by binary search;
    each day is priced from per-tier token sums as exact integers (tokens x rates scaled to
    whole numbers), with C-level passes over the day's calls and no Python work per call.
    Identical to summing `price_overflow_call` call by call.
    """
    out: list[OverflowDay] = []
    with localcontext(money_context()):
        for batch in batches:
            columns = _columns(batch)
            days = _rollup_days(batch, catalog, *columns)
            if days is None:  # not in time order: sort once and go again
                days = _rollup_days(batch, catalog, *_in_time_order(*columns))
                assert days is not None
            out.extend(days)
    return out


def _split_amount(
    catalog: Catalog,
    base: TierRates,
    think: TierRates,
    ins: list[int],
    outs: list[int],
    reasons: list[int],
    sum_in: int,
    sum_out: int,
) -> Decimal:
    """A day of calls of which those with reasoning tokens are priced at the thinking prices."""
    if len(base.highs) == len(think.highs) == 1:  # one tier each: token sums are enough
        t_in, t_out = sum(compress(ins, reasons)), sum(compress(outs, reasons))
        top = max(ins)
        if top > min(base.highs[0], think.highs[0]):
            base.tier_index(max(compress(ins, map(not_, reasons)), default=0))
            think.tier_index(max(compress(ins, reasons), default=0))
        plain = (sum_in - t_in) * base.input_scaled[0] + (sum_out - t_out) * base.output_scaled[0]
        extra = t_in * think.input_scaled[0] + t_out * think.output_scaled[0]
    else:
        keep = list(map(not_, reasons))
        p_in, p_out = list(compress(ins, keep)), list(compress(outs, keep))
        t_in_list, t_out_list = list(compress(ins, reasons)), list(compress(outs, reasons))
        plain = _scaled_cost(base, p_in, p_out, sum(p_in), sum(p_out))
        extra = _scaled_cost(think, t_in_list, t_out_list, sum(t_in_list), sum(t_out_list))
    return Decimal(plain).scaleb(-(base.scale + 6)) + catalog.convert(
        Decimal(extra).scaleb(-(think.scale + 6)), think.currency, base.currency
    )


def _rollup_days(
    batch: DeploymentOverflow,
    catalog: Catalog,
    at: list[int],
    ins: list[int],
    outs: list[int],
    reasons: list[int],
) -> list[OverflowDay] | None:
    """Price day by day (each day's calls stay in cache); None if `at` is not in time order."""
    model = catalog.resolve_model(batch.model)
    base = tier_rates(catalog, model, batch.mode)
    scale = -(base.scale + 6)
    may_think = batch.mode != "thinking" and bool(reasons) and any(reasons)
    think = tier_rates(catalog, model, "thinking") if may_think else None
    if at != sorted(at):
        return None
    days: list[OverflowDay] = []
    start = 0
    while start < len(at):
        day = (at[start] + BEIJING_OFFSET_SECONDS) // DAY_SECONDS
        end = bisect_left(at, (day + 1) * DAY_SECONDS - BEIJING_OFFSET_SECONDS, start)
        day_in, day_out = ins[start:end], outs[start:end]
        sum_in, sum_out = sum(day_in), sum(day_out)
        day_reasons = reasons[start:end] if think is not None else []
        if think is not None and any(day_reasons):
            # Calls that reasoned are priced at the thinking prices, the others at the base.
            amount = _split_amount(catalog, base, think, day_in, day_out, day_reasons,
                                   sum_in, sum_out)  # fmt: skip
        else:
            amount = Decimal(_scaled_cost(base, day_in, day_out, sum_in, sum_out)).scaleb(scale)
        days.append(
            OverflowDay(
                deployment=batch.deployment,
                day=_EPOCH + timedelta(days=day),
                calls=end - start,
                input_tokens=sum_in,
                output_tokens=sum_out,
                amount=amount,
                currency=base.currency,
            )
        )
        start = end
    return days


# --------------------------------------------------------------------------- grouped sums


@dataclass(frozen=True)
class CallGroup:
    """Answered calls of one deployment summed in SQL: all of one input-length bucket (no tier
    boundary and no max input falls inside a bucket), one overflow flag, reasoned or not."""

    overflow: bool
    reasoned: bool
    calls: int
    input_tokens: int
    output_tokens: int
    max_input_tokens: int


@dataclass(frozen=True)
class OverflowTotal:
    """What a deployment's billable overflow calls in a window cost, and their counts."""

    calls: int
    input_tokens: int
    output_tokens: int
    amount: Decimal
    currency: str
    unpriced: str | None = None  # the price is not listed: the override to set (amount is 0)


def bucket_bounds(catalog: Catalog, models_modes: set[tuple[str, str]]) -> list[int]:
    """Every finite tier bound and max input of these (model, mode)s, thinking included, sorted:
    grouping calls by the bucket between two bounds keeps each group in one tier."""
    bounds: set[int] = set()
    for model, mode in models_modes:
        try:
            canonical = catalog.resolve_model(model)
            info = catalog.model_info(canonical)
        except CatalogError:
            continue
        if info.max_input is not None:
            bounds.add(info.max_input)
        for m in {mode, "thinking"}:
            bounds.update(t.high for t in catalog.tiers(canonical, m) if t.high is not None)
    return sorted(bounds)


def price_groups(
    groups: Sequence[CallGroup],
    model: str,
    mode: str,
    max_input: int | None,
    catalog: Catalog,
) -> OverflowTotal | None:
    """The exact PAYG price of a deployment's billable calls from grouped sums (identical to
    `rollup_overflow` over the same calls); None when none is billable."""
    billable = [
        g
        for g in groups
        if g.calls and is_billable_overflow(g.overflow, g.max_input_tokens, max_input)
    ]
    if not billable:
        return None
    canonical = catalog.resolve_model(model)
    try:
        return _price_billable(billable, canonical, mode, catalog)
    except PriceNotListed as exc:  # flagged on its own line, never $0 and never the whole report
        return OverflowTotal(
            calls=sum(g.calls for g in billable),
            input_tokens=sum(g.input_tokens for g in billable),
            output_tokens=sum(g.output_tokens for g in billable),
            amount=Decimal(0),
            currency="USD",
            unpriced=exc.hint or exc.message,
        )


def _price_billable(
    billable: Sequence[CallGroup], canonical: str, mode: str, catalog: Catalog
) -> OverflowTotal:
    with localcontext(money_context()):
        base = tier_rates(catalog, canonical, mode)
        scaled: dict[str, int] = {"base": 0, "think": 0}
        think: TierRates | None = None
        for g in billable:
            table = base
            key = "base"
            if g.reasoned and mode != "thinking":
                think = think or tier_rates(catalog, canonical, "thinking")
                table, key = think, "think"
            index = table.tier_index(g.max_input_tokens)
            scaled[key] += (
                g.input_tokens * table.input_scaled[index]
                + g.output_tokens * table.output_scaled[index]
            )
        amount = Decimal(scaled["base"]).scaleb(-(base.scale + 6))
        if think is not None:
            amount += catalog.convert(
                Decimal(scaled["think"]).scaleb(-(think.scale + 6)), think.currency, base.currency
            )
    return OverflowTotal(
        calls=sum(g.calls for g in billable),
        input_tokens=sum(g.input_tokens for g in billable),
        output_tokens=sum(g.output_tokens for g in billable),
        amount=amount,
        currency=base.currency,
    )
