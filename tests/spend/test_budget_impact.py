"""A request's effect on the budgets: exact extra spend to the period's end; hard budgets name
the admin approval it needs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from modeldeck.billing.accrual import CapacityEvent, DeploymentHistory, PrepaidOrder
from modeldeck.billing.forecast import forecast_budgets
from modeldeck.billing.impact import budget_impact, change_cost
from modeldeck.budgets import Budget, BudgetTarget
from modeldeck.catalog import load_catalog
from modeldeck.timeutil import BEIJING

MARCH_END = datetime(2026, 4, 1, tzinfo=BEIJING)
NOW = datetime(2026, 3, 21, tzinfo=BEIJING)  # 11 days = 264 h left
START = datetime(2026, 3, 1, tzinfo=BEIJING)


def history(*events: CapacityEvent, **kw) -> DeploymentHistory:  # type: ignore[no-untyped-def]
    return DeploymentHistory(
        deployment_id="dep_1", model="qwen3-max-2025-09-23", plan="ptu", events=list(events), **kw
    )


CREATED = CapacityEvent(at=START, kind="created", input_tpm=20_000, output_tpm=2_000)


def test_scale_up_new_deployment_and_unpublish_are_priced_to_the_period_end() -> None:
    catalog = load_catalog()
    before = history(CREATED)
    scaled = history(
        CREATED, CapacityEvent(at=NOW, kind="scaled", input_tpm=40_000, output_tpm=2_000)
    )
    # +20,000 input TPM = 2 x 1.11 per hour, for 264 h.
    assert change_cost(before, scaled, NOW, MARCH_END, catalog) == Decimal("2.22") * 264
    new = history(CapacityEvent(at=NOW, kind="created", input_tpm=20_000, output_tpm=2_000))
    assert change_cost(None, new, NOW, MARCH_END, catalog) == Decimal("3.12") * 264
    gone = history(CREATED, CapacityEvent(at=NOW, kind="unpublished"))
    assert change_cost(before, gone, NOW, MARCH_END, catalog) == -Decimal("3.12") * 264
    upfront = history(
        CapacityEvent(at=NOW, kind="created", input_tpm=20_000, output_tpm=2_000),
        billing="upfront",
        orders=[PrepaidOrder(ordered_at=NOW, days=7, input_tpm=20_000, output_tpm=2_000)],
    )
    assert change_cost(None, upfront, NOW, MARCH_END, catalog) == Decimal("262.08")  # example 2


def test_hard_budget_needs_an_admin_when_the_request_crosses_it() -> None:
    catalog = load_catalog()
    target = BudgetTarget(id="dep_1", tags={"team": "search"})
    budgets = [
        Budget(name="soft", amount_usd=Decimal(3000)),
        Budget(name="hard", scope="tag:team=search", amount_usd=Decimal(3000), hard=True),
        Budget(name="other", scope="tag:team=ads", amount_usd=Decimal(1), hard=True),
    ]
    items = forecast_budgets(budgets, [(target, history(CREATED))], NOW, catalog)
    assert items[0].total == Decimal("3.12") * 24 * 31  # $2,321.28
    extra = Decimal("2.22") * 264  # $586.08: to $2,907.36, within
    soft, hard = budget_impact(items, target, extra)
    assert not hard.crosses and not hard.needs_admin
    soft, hard = budget_impact(items, target, extra * 2)  # to $3,493.44
    assert soft.crosses and not soft.needs_admin
    assert hard.crosses and hard.needs_admin and hard.after_percent > 100
    assert [i.budget for i in budget_impact(items, target, -extra)] == ["soft", "hard"]
    assert not budget_impact(items, target, -extra)[1].needs_admin  # saving never needs one
