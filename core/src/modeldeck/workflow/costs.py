"""Cost queries: what deployments have cost over a period, by line item, as a typed report.

Builds each deployment's history (creation, executed scales, status changes, unpublish, upfront
orders, metered overflow calls) with `spend.histories.load_histories` (the one builder, grouped
queries) and hands it to the billing engine's accrual, with the period's overflow calls summed
in SQL per tier (`spend.period_overflow`): only the period is read, never a call per row.
**Decision**: reserved time is billed from the moment the deployment is created at the provider
(not from RUNNING): modeldeck errs on the side of showing more spend, never less.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, cast

from pydantic import BaseModel, Field

from modeldeck.billing.accrual import Accrual, AccrualLine, RateBook, accrue
from modeldeck.billing.periods import parse_period
from modeldeck.domain import BillingMethod, Plan
from modeldeck.money import ExactDecimal
from modeldeck.timeutil import iso
from modeldeck.workflow.context import WorkflowContext


class CostPeriod(BaseModel):
    """The period asked for (`month`, `all`, a date...) and its [start, end) in Beijing time."""

    name: str
    start: datetime
    end: datetime


class DeploymentCost(BaseModel):
    """One deployment's spend over the period, by line item."""

    id: str
    deployed_model: str | None = None
    model: str
    plan: Plan
    billing: BillingMethod
    currency: str
    total: ExactDecimal
    by_kind: dict[str, ExactDecimal] = Field(default_factory=dict)
    lines: list[AccrualLine] = Field(default_factory=list)
    price_note: str | None = None

    @property
    def price_known(self) -> bool:
        """False when a line's price is not listed (the total leaves that line out)."""
        return self.price_note is None and all(line.price_known for line in self.lines)


class CostReport(BaseModel):
    """A cost query's answer: each deployment asked about (unpublished ones too) and the sum."""

    target: str
    period: CostPeriod
    currency: str
    total: ExactDecimal
    deployments: list[DeploymentCost] = Field(default_factory=list)

    @property
    def unpriced_lines(self) -> int:
        """How many lines the total leaves out because their price is not listed."""
        return sum(1 for d in self.deployments for line in d.lines if not line.price_known)

    def as_data(self) -> dict[str, Any]:
        """The JSON shape `cost` has always returned (amounts as strings)."""
        return {
            "period": {
                "name": self.period.name,
                "start": iso(self.period.start),
                "end": iso(self.period.end),
            },
            "currency": self.currency,
            "total": str(self.total),
            "price_known": all(d.price_known for d in self.deployments),
            "total_excludes_unpriced_lines": self.unpriced_lines,
            "deployments": [
                {
                    "id": d.id,
                    "deployed_model": d.deployed_model,
                    "model": d.model,
                    "plan": d.plan,
                    "billing": d.billing,
                    "total": str(d.total),
                    "price_known": d.price_known,
                    "price_note": d.price_note,
                    "by_kind": {k: str(v) for k, v in d.by_kind.items()},
                    "lines": [_line_data(line) for line in d.lines],
                }
                for d in self.deployments
            ],
        }


def _line_data(line: AccrualLine) -> dict[str, Any]:
    """A line as JSON; an unpriced line has no amount (it is not $0)."""
    data = line.model_dump(mode="json")
    if not line.price_known:
        data["amount"] = None
    return data


def resolve_period(period: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) in Beijing time for every period the grammar accepts (billing's rules)."""
    return parse_period(period or "month", now)


class CostSubject(Protocol):
    """What a cost line needs of a deployment: a record, or the store's row (`cost all`)."""

    @property
    def id(self) -> str: ...
    @property
    def deployed_model(self) -> str | None: ...
    @property
    def model(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def plan(self) -> str: ...
    @property
    def billing(self) -> str: ...
    @property
    def price_note(self) -> str | None: ...


def deployment_accruals(
    ctx: WorkflowContext, target: str | None, start: datetime, end: datetime
) -> list[tuple[CostSubject, Accrual]]:
    """Accruals of one deployment (`target`) or all of them, unpublished ones included.

    For all of them the deployments are the rows the histories are built from (one read, no
    record per deployment); each distinct capacity is priced once (`RateBook`).
    """
    from modeldeck.spend.histories import load_histories  # the store: only when costs are read
    from modeldeck.spend.period_overflow import period_overflow

    wanted = {ctx.get_deployment(target).id} if target and target != "all" else None
    with ctx.store.session() as session:
        stored = load_histories(session, wanted, with_calls=False)
        overflow = period_overflow(session, [s.row for s in stored], start, end, ctx.catalog)
    rates = RateBook(ctx.catalog)
    return [
        (
            s.row,
            accrue(
                s.history,
                start,
                end,
                ctx.catalog,
                ctx.rules,
                overflow=overflow.get(s.row.id),
                rates=rates,
            ),
        )
        for s in stored
    ]


def cost_report(
    ctx: WorkflowContext, target: str | None, period: str | None, now: datetime | None = None
) -> CostReport:
    """Spend by deployment and line item over a period (`cost`, `status`, the panels)."""
    start, end = resolve_period(period, now)
    accruals = deployment_accruals(ctx, target, start, end)
    currency = accruals[0][1].currency if accruals else "USD"
    total = sum(
        (ctx.catalog.convert(a.total, a.currency, currency) for _, a in accruals), Decimal(0)
    )
    return CostReport(
        target=target or "all",
        period=CostPeriod(name=period or "month", start=start, end=end),
        currency=currency,
        total=total,
        deployments=[
            DeploymentCost(
                id=dep.id,
                deployed_model=dep.deployed_model,
                model=dep.model,
                plan=cast(Plan, dep.plan),
                billing=cast(BillingMethod, dep.billing),
                currency=acc.currency,
                total=Decimal(acc.total),
                by_kind=acc.by_kind(),
                lines=list(acc.lines),
                price_note=dep.price_note,
            )
            for dep, acc in accruals
        ],
    )


def render_cost_text(report: CostReport) -> str:
    """The plain-text rendering of a cost report (the core's text renderer for `cost`)."""
    from modeldeck.render import cost_text

    return cost_text(report)
