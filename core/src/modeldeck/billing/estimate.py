"""Estimates: what a spec costs, by line item, for a duration or per hour / day / 30 days."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from modeldeck.billing.compare import compare_methods
from modeldeck.billing.components import Component, components
from modeldeck.billing.rules import DEFAULT_RULES, BillingRules, money_context
from modeldeck.billing.timeline import DAY_SECONDS, order_timeline, settle_cancellation
from modeldeck.billing.validate import validate_spec
from modeldeck.catalog import Catalog
from modeldeck.catalog.exact import quotient
from modeldeck.domain import DeploySpec, Estimate, EstimateLine

_PERIOD_OF = {"hourly": "hour", "upfront": "day", "monthly": "month"}


@dataclass(frozen=True)
class Span:
    """How long is billed: `count` steps of `step` ('minute' or 'day'), and words for it."""

    count: int
    step: str
    text: str
    defaulted: bool


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def billed_span(spec: DeploySpec, rules: BillingRules = DEFAULT_RULES) -> Span:
    """The billed duration of a spec: minutes for hourly billing, days for prepaid billing."""
    per_month = rules.days_per_month
    if spec.billing == "hourly":
        step = rules.time_granularity_seconds
        if spec.hours is not None:
            seconds = spec.hours * 3600
        elif spec.days is not None:
            seconds = Decimal(spec.days * DAY_SECONDS)
        elif spec.months is not None:
            seconds = Decimal(spec.months * per_month * DAY_SECONDS)
        elif spec.duration_seconds is not None:
            seconds = Decimal(spec.duration_seconds)
        else:
            return Span(3600 // step, "minute", "1 hour (no duration given)", True)
        minutes = _ceil(seconds / step) * step // 60
        return Span(minutes, "minute", _minutes_text(minutes), False)
    if spec.days is not None:
        days = spec.days
    elif spec.months is not None:
        days = spec.months * per_month
    elif spec.hours is not None:
        days = _ceil(spec.hours / 24)
    elif spec.duration_seconds is not None:
        days = -(-spec.duration_seconds // DAY_SECONDS)
    else:
        if spec.billing == "monthly":
            return Span(per_month, "day", "1 month (no duration given)", True)
        return Span(1, "day", "1 day (no duration given)", True)
    if spec.billing == "monthly" and days % per_month == 0:
        months = days // per_month
        return Span(days, "day", f"{months} month{'s' if months != 1 else ''}", False)
    return Span(days, "day", f"{days} day{'s' if days != 1 else ''}", False)


def _minutes_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if hours == 0:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{minutes} minutes ({hours} h {rest} min)"


def _periods(span: Span, billing: str, rules: BillingRules) -> tuple[Decimal, int, Decimal, str]:
    """(numerator, divisor, shown periods, shown unit): periods = numerator / divisor."""
    if billing == "hourly":
        if span.count % 60 == 0:
            return Decimal(span.count), 60, Decimal(span.count // 60), "hour"
        return Decimal(span.count), 60, Decimal(span.count), "minute"
    if billing == "monthly":
        per_month = rules.days_per_month
        if span.count % per_month == 0:
            return Decimal(span.count), per_month, Decimal(span.count // per_month), "month"
        return Decimal(span.count), per_month, Decimal(span.count), "day"
    return Decimal(span.count), 1, Decimal(span.count), "day"


def estimate(spec: DeploySpec, catalog: Catalog, rules: BillingRules = DEFAULT_RULES) -> Estimate:
    """Price a spec: validated, exact (rounded only to present), with lines and rates used."""
    spec = validate_spec(spec, catalog, rules)
    with localcontext(money_context()):
        return _estimate(spec, catalog, rules)


def _estimate(spec: DeploySpec, catalog: Catalog, rules: BillingRules) -> Estimate:
    parts = components(spec, catalog, spec.billing)
    currency = _currency(parts)
    span = billed_span(spec, rules)
    numerator, divisor, shown, shown_unit = _periods(span, spec.billing, rules)
    lines: list[EstimateLine] = []
    per_period = Decimal(0)
    for part in parts:
        rate = catalog.convert(part.rate, part.currency, currency)
        per_period += part.quantity * rate
        lines.append(
            EstimateLine(
                description=part.description,
                amount=quotient(part.quantity * rate * numerator, divisor),
                quantity=Decimal(part.quantity),
                unit=part.unit,
                rate=rate,
                rate_unit=f"{currency} {part.rate_unit}",
                periods=shown,
                period_unit=shown_unit,
            )
        )
    total = sum((line.amount for line in lines), Decimal(0))
    per_hour, per_day, per_30 = _per_periods(per_period, spec.billing, rules)
    notes: list[str] = []
    if span.defaulted:
        notes.append(
            "No duration given: the total is for one billing period; see per_hour, "
            "per_day and per_30_days."
        )
    if spec.billing == "hourly":
        notes.append("Time is billed per started minute.")
    result = Estimate(
        model=spec.model,
        plan=spec.plan,
        mode=spec.mode,
        billing=spec.billing,
        currency=currency,
        total=total,
        period=span.text,
        lines=lines,
        per_hour=per_hour,
        per_day=per_day,
        per_30_days=per_30,
        notes=notes,
    )
    if spec.billing != "hourly":
        if spec.start is not None:
            result.timeline = order_timeline(spec.start, span.count, rules)
            if result.timeline.extra_day:
                result.notes.append(
                    "Ordered at 22:00 Beijing time or later: one extra day of validity."
                )
        if spec.cancel_after_seconds is not None:
            daily_divisor = rules.days_per_month if spec.billing == "monthly" else 1
            result.cancellation = settle_cancellation(
                total,
                per_period,
                spec.cancel_after_seconds,
                span.count,
                daily_divisor=daily_divisor,
                rules=rules,
            )
    if spec.compare:
        hours_per_day = spec.hours_per_day or rules.default_hours_per_day
        result.comparison, note = compare_methods(spec, catalog, hours_per_day, rules)
        result.notes.append(note)
    return result


def _currency(parts: list[Component]) -> str:
    currencies = {p.currency for p in parts}
    return currencies.pop() if len(currencies) == 1 else "USD"


def _per_periods(
    per_period: Decimal, billing: str, rules: BillingRules
) -> tuple[Decimal, Decimal, Decimal]:
    if billing == "hourly":
        return per_period, per_period * 24, per_period * 24 * 30
    if billing == "upfront":
        return quotient(per_period, 24), per_period, per_period * 30
    month = rules.days_per_month
    return (
        quotient(per_period, month * 24),
        quotient(per_period, month),
        quotient(per_period * 30, month),
    )
