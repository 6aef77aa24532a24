"""What a request would do to the budgets' forecasts (for request cards and hard budgets).

The change is given as the deployment's history before and after it (a new deployment: no
history before; a scale: a `scaled` event at the time it would execute; an unpublish: an
`unpublished` event). Its effect is the difference of the two reserved accruals from now to the
period's end, exact, added to each budget whose scope matches the deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from modeldeck.billing.accrual import DeploymentHistory, accrue
from modeldeck.billing.forecast import BudgetForecast
from modeldeck.billing.rules import DEFAULT_RULES, BillingRules
from modeldeck.budgets.models import BudgetTarget
from modeldeck.catalog import Catalog
from modeldeck.catalog.exact import quotient
from modeldeck.money import DecimalStr
from modeldeck.timeutil import ensure_aware


class BudgetImpact(BaseModel):
    """One budget's forecast before and after a request."""

    budget: str
    amount: DecimalStr
    hard: bool
    before: DecimalStr
    after: DecimalStr

    @property
    def change(self) -> Decimal:
        return self.after - self.before

    @property
    def after_percent(self) -> Decimal:
        return quotient(self.after * 100, self.amount)

    @property
    def crosses(self) -> bool:
        """The request takes the forecast from within the budget to above it."""
        return self.before <= self.amount < self.after

    @property
    def needs_admin(self) -> bool:
        """A hard budget the request would push (further) over: an admin must approve it."""
        return self.hard and self.after > self.amount and self.change > 0


def change_cost(
    before: DeploymentHistory | None,
    after: DeploymentHistory,
    now: datetime,
    end: datetime,
    catalog: Catalog,
    rules: BillingRules = DEFAULT_RULES,
) -> Decimal:
    """Extra spend in [now, end) the change causes (negative when it saves), in USD."""
    now, end = ensure_aware(now), ensure_aware(end)
    if end <= now:
        return Decimal(0)

    def reserved(h: DeploymentHistory) -> Decimal:
        acc = accrue(h.model_copy(update={"calls": []}), now, end, catalog, rules)
        return catalog.convert(acc.total, acc.currency, "USD")

    return reserved(after) - (reserved(before) if before is not None else Decimal(0))


def budget_impact(
    items: Sequence[BudgetForecast], target: BudgetTarget, extra: Decimal
) -> list[BudgetImpact]:
    """The forecast of every budget covering `target` before and after `extra` spend."""
    return [
        BudgetImpact(
            budget=item.budget.name,
            amount=item.budget.amount_usd,
            hard=item.budget.hard,
            before=item.total,
            after=item.total + extra,
        )
        for item in items
        if item.budget.scope.matches(target)
    ]
