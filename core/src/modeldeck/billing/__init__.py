"""Billing: estimates, validation, timelines, cancellation, comparison, overflow and accrual.

Pure functions over Decimal money and the Beijing calendar; `billing-rules.md` is the law and
`modeldeck.billing.rules` holds every decision as an explicit, overridable setting.
"""

from __future__ import annotations

from modeldeck.billing.accrual import (
    Accrual,
    AccrualLine,
    CapacityEvent,
    DeploymentHistory,
    OverflowCall,
    PrepaidOrder,
    accrue,
)
from modeldeck.billing.compare import break_even_hours, compare_methods
from modeldeck.billing.estimate import billed_span, estimate
from modeldeck.billing.overflow import (
    DeploymentOverflow,
    OverflowDay,
    is_billable_overflow,
    price_overflow_call,
    rollup_overflow,
)
from modeldeck.billing.periods import parse_period
from modeldeck.billing.render import render_estimate_text
from modeldeck.billing.rules import DEFAULT_RULES, BillingRules
from modeldeck.billing.timeline import (
    arrears_release_at,
    billed_days,
    order_timeline,
    settle_cancellation,
)
from modeldeck.billing.validate import check_billing_change, check_context, validate_spec

__all__ = [
    "DEFAULT_RULES",
    "Accrual",
    "AccrualLine",
    "BillingRules",
    "CapacityEvent",
    "DeploymentHistory",
    "DeploymentOverflow",
    "OverflowCall",
    "OverflowDay",
    "PrepaidOrder",
    "accrue",
    "arrears_release_at",
    "billed_days",
    "billed_span",
    "break_even_hours",
    "check_billing_change",
    "check_context",
    "compare_methods",
    "estimate",
    "is_billable_overflow",
    "order_timeline",
    "parse_period",
    "price_overflow_call",
    "render_estimate_text",
    "rollup_overflow",
    "settle_cancellation",
    "validate_spec",
]
