"""Budgets: an amount per period for a workspace, a deployment or a tag, with alert thresholds.

Configured as `[[budgets]]` in modeldeck.toml (see docs/budgets.md). Pure configuration and
matching; forecasts (`modeldeck.billing.forecast`) and alert rules (`modeldeck.alerts`) use it.
"""

from modeldeck.budgets.models import (
    Budget,
    Budgets,
    BudgetTarget,
    Scope,
    parse_scope,
    period_bounds,
)

__all__ = ["Budget", "BudgetTarget", "Budgets", "Scope", "parse_scope", "period_bounds"]
