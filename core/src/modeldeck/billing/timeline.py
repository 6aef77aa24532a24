"""Prepaid order timelines and cancellation settlement, on the Beijing calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from modeldeck.billing.rules import DEFAULT_RULES, BillingRules
from modeldeck.catalog.exact import quotient
from modeldeck.domain import Cancellation, Timeline
from modeldeck.errors import ValidationFailed
from modeldeck.timeutil import BEIJING, to_beijing

DAY_SECONDS = 86_400


def order_timeline(
    ordered_at: datetime, days: int, rules: BillingRules = DEFAULT_RULES
) -> Timeline:
    """An order of `days` days: valid to 23:59:59 Beijing on day N (day 1 = the order day; one
    extra day when ordered at 22:00 or later), stops 2 h after expiry, released 14 h later.

    A naive `ordered_at` is read as Beijing time; the result is in Beijing time.
    """
    if days <= 0:
        raise ValidationFailed(f"An order must last at least one day (got {days}).")
    local = to_beijing(ordered_at)
    extra = local.timetz().replace(tzinfo=None) >= rules.extra_day_from
    last_day = local.date() + timedelta(days=days - 1 + (1 if extra else 0))
    expires = datetime.combine(last_day, rules.day_ends_at, tzinfo=BEIJING)
    stops = expires + rules.stop_delay
    return Timeline(
        ordered_at=local,
        expires_at=expires,
        stops_at=stops,
        released_at=stops + rules.release_delay,
        extra_day=extra,
    )


def arrears_release_at(overdue_since: datetime, rules: BillingRules = DEFAULT_RULES) -> datetime:
    """Pay-as-you-go with an overdue account: kept (and billed) 24 h, then released."""
    return to_beijing(overdue_since) + rules.arrears_grace


def billed_days(elapsed_seconds: int) -> int:
    """Whole days used, a partial day counting as a whole one."""
    return -(-elapsed_seconds // DAY_SECONDS)


def settle_cancellation(
    paid: Decimal,
    daily_price: Decimal,
    elapsed_seconds: int,
    order_days: int,
    *,
    daily_divisor: int = 1,
    rules: BillingRules = DEFAULT_RULES,
) -> Cancellation:
    """Cancel a prepaid order after `elapsed_seconds`: used days re-billed at 1.2x the daily price
    (`daily_price / daily_divisor`, kept as a fraction so the sums stay exact), the rest refunded,
    never below zero. Refused after the first 30 days or once the order has run its term.
    """
    window = rules.cancel_window_days
    if elapsed_seconds <= 0:
        raise ValidationFailed("cancel_after must be more than zero.")
    if elapsed_seconds > window * DAY_SECONDS:
        raise ValidationFailed(
            f"A prepaid order can only be cancelled within its first {window} days; after that "
            "it cannot be terminated early.",
            hint=f"Give cancel_after of at most {window}d, or let the order run to its expiry.",
        )
    if elapsed_seconds >= order_days * DAY_SECONDS:
        raise ValidationFailed(
            f"The order lasts {order_days} day(s), so after {elapsed_seconds:,} seconds it has "
            "already run its term: there is nothing to cancel.",
            hint=f"Give a cancel_after shorter than {order_days}d.",
        )
    days = billed_days(elapsed_seconds)
    settled = min(quotient(days * rules.cancel_factor * daily_price, daily_divisor), paid)
    return Cancellation(paid=paid, billed_days=days, settled=settled, refund=paid - settled)
