"""Side-by-side comparison of a plan's two billing methods for a usage pattern, with break-even."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from modeldeck.billing.rules import BILLING_METHODS, DEFAULT_RULES, BillingRules
from modeldeck.catalog import Catalog
from modeldeck.catalog.exact import quotient
from modeldeck.domain import DeploySpec
from modeldeck.money import format_amount

HOURS_PLACES = Decimal("0.01")


def _sum(spec: DeploySpec, catalog: Catalog, billing: Any, currency: str | None) -> Decimal:
    from modeldeck.billing.components import components

    parts = components(spec, catalog, billing)
    target = currency or parts[0].currency
    return sum(
        (p.quantity * catalog.convert(p.rate, p.currency, target) for p in parts), Decimal(0)
    )


def break_even_hours(per_hour: Decimal, per_day_prepaid: Decimal) -> Decimal | None:
    """Hours a day above which the prepaid method is cheaper (None: hourly is free)."""
    return None if per_hour == 0 else per_day_prepaid / per_hour


def compare_methods(
    spec: DeploySpec,
    catalog: Catalog,
    hours_per_day: Decimal,
    rules: BillingRules = DEFAULT_RULES,
) -> tuple[list[dict[str, Any]], str]:
    """Rows (hourly vs prepaid) priced per day and per 30 days at `hours_per_day`, and a note."""
    from modeldeck.billing.components import components

    hourly_m, prepaid_m = BILLING_METHODS[spec.plan]
    currencies = {p.currency for m in (hourly_m, prepaid_m) for p in components(spec, catalog, m)}
    currency = currencies.pop() if len(currencies) == 1 else "USD"
    per_hour = _sum(spec, catalog, hourly_m, currency)
    prepaid_period = _sum(spec, catalog, prepaid_m, currency)
    prepaid_day = (
        quotient(prepaid_period, rules.days_per_month) if prepaid_m == "monthly" else prepaid_period
    )
    hourly_day = per_hour * hours_per_day
    even = break_even_hours(per_hour, prepaid_day)
    even_text = None if even is None else str(even.quantize(HOURS_PLACES))
    rows: list[dict[str, Any]] = []
    for method, day in ((hourly_m, hourly_day), (prepaid_m, prepaid_day)):
        other = prepaid_day if method == hourly_m else hourly_day
        rows.append(
            {
                "billing": method,
                "hours_per_day": str(hours_per_day),
                "per_day": str(day),
                "per_30_days": str(day * 30),
                "currency": currency,
                "cheaper": day < other,
                "break_even_hours_per_day": even_text,
            }
        )
    if even is None:
        note = f"Hourly costs nothing here, so {prepaid_m} never wins."
    else:
        saving = format_amount(abs(hourly_day - prepaid_day) * 30, currency)
        if hourly_day < prepaid_day:
            verdict = f"at {hours_per_day} h/day hourly is cheaper by {saving} per 30 days"
        elif hourly_day > prepaid_day:
            verdict = f"at {hours_per_day} h/day {prepaid_m} is cheaper by {saving} per 30 days"
        else:
            verdict = f"at {hours_per_day} h/day both cost the same"
        note = (
            f"{prepaid_m.capitalize()} wins when the deployment runs more than {even_text} "
            f"hours a day; {verdict}."
        )
    return rows, note
