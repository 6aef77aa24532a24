"""The billing rules modeldeck applies, with every spec **decision** as an explicit setting.

`DEFAULT_RULES` is what billing-rules.md prescribes; pass another `BillingRules` to any billing
function to change an assumption (docs/billing.md lists each one and why it was chosen).
"""

from __future__ import annotations

import decimal
from datetime import time, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from modeldeck.domain import BillingMethod, Plan

BILLING_METHODS: dict[Plan, tuple[BillingMethod, ...]] = {
    "ptu": ("hourly", "upfront"),
    "mu": ("hourly", "monthly"),
}


class BillingRules(BaseModel):
    """Granularities, calendar constants and factors; defaults follow billing-rules.md."""

    model_config = ConfigDict(frozen=True)

    # Decision: PTU time billed per started minute, like model units.
    time_granularity_seconds: int = 60
    # Decision: PTU capacity bought in whole price units.
    ptu_input_step: int = 10_000
    ptu_output_step: int = 1_000
    # Decision: zero output TPM is allowed (a thinking qwen-plus has no output price).
    allow_zero_output_tpm: bool = True
    # Model Studio: capacity < 1000 units.
    max_units: int = 999
    # Decision (upper bounds so nothing a user types overflows; see docs/trust-workflow.md):
    # the largest PTU capacity per direction, rate limit, context, duration and order term,
    # and how far ahead a prepaid order's start may be.
    max_ptu_tpm: int = 100_000_000
    max_rate_limit: int = 1_000_000_000
    max_context_tokens: int = 100_000_000
    max_duration_days: int = 3660
    max_months: int = 120
    max_start_ahead_days: int = 366
    # Decision: the daily price of a monthly package is monthly / 30; a month is 30 days.
    days_per_month: int = 30
    # Cancellation within the first month: used days at 1.2x the daily price.
    cancel_factor: Decimal = Decimal("1.2")
    # Decision: cancellation allowed only within the first 30 days.
    cancel_window_days: int = 30
    # Upfront timeline (Beijing time).
    extra_day_from: time = time(22, 0, 0)
    day_ends_at: time = time(23, 59, 59)
    stop_delay: timedelta = timedelta(hours=2)
    release_delay: timedelta = timedelta(hours=14)
    arrears_grace: timedelta = timedelta(hours=24)
    # Decision: the "released soon" warning of an arrears episode, this long before release.
    arrears_warning: timedelta = timedelta(hours=2)
    # Comparison: the usage pattern assumed when hours_per_day is not given.
    default_hours_per_day: Decimal = Decimal(24)


DEFAULT_RULES = BillingRules()


# Exact arithmetic: results that terminate are exact; the rest (x/60, x/30) keep 40 digits.
MONEY_PRECISION = 40


def money_context() -> decimal.Context:
    """The decimal context billing computes in (40 significant digits, traps as default)."""
    return decimal.Context(prec=MONEY_PRECISION, rounding=decimal.ROUND_HALF_EVEN)
