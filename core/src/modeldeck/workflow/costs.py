"""Cost queries: what deployments have cost over a period, by line item, as a typed report.

Builds each deployment's history (creation, executed scales, status changes, unpublish, upfront
orders, metered overflow calls) from the store and hands it to the billing engine's accrual.
**Decision**: reserved time is billed from the moment the deployment is created at the provider
(not from RUNNING): modeldeck errs on the side of showing more spend, never less.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from modeldeck.billing.accrual import (
    Accrual,
    AccrualLine,
    CapacityEvent,
    DeploymentHistory,
    OverflowCall,
    PrepaidOrder,
    accrue,
)
from modeldeck.billing.periods import parse_period
from modeldeck.domain import BillingMethod, DeploymentRecord, Plan
from modeldeck.money import format_amount
from modeldeck.store import audit_log
from modeldeck.store import orders as order_rows
from modeldeck.store import requests as request_rows
from modeldeck.store import usage as usage_rows
from modeldeck.timeutil import iso
from modeldeck.workflow.context import WorkflowContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

STOPPED = {"STOPPED", "ARREARS_DOWN", "OFFLINING"}
GONE = {"DELETING", "DELETED"}


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
    total: Decimal
    by_kind: dict[str, Decimal] = Field(default_factory=dict)
    lines: list[AccrualLine] = Field(default_factory=list)


class CostReport(BaseModel):
    """A cost query's answer: each deployment asked about (unpublished ones too) and the sum."""

    target: str
    period: CostPeriod
    currency: str
    total: Decimal
    deployments: list[DeploymentCost] = Field(default_factory=list)

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
            "deployments": [
                {
                    "id": d.id,
                    "deployed_model": d.deployed_model,
                    "model": d.model,
                    "plan": d.plan,
                    "billing": d.billing,
                    "total": str(d.total),
                    "by_kind": {k: str(v) for k, v in d.by_kind.items()},
                    "lines": [line.model_dump(mode="json") for line in d.lines],
                }
                for d in self.deployments
            ],
        }


def resolve_period(period: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) in Beijing time for every period the grammar accepts (billing's rules)."""
    return parse_period(period or "month", now)


def _history(session: Session, dep: DeploymentRecord) -> DeploymentHistory:
    requests = request_rows.executed_for_deployment(session, dep.id)
    payload = request_rows.payload_of(session, dep.request_id) if dep.request_id else None
    spec: dict[str, Any] = dict((payload or {}).get("deploy") or {})  # type: ignore[call-overload]
    first = {
        "units": spec.get("units", dep.units) if dep.plan == "mu" else None,
        "input_tpm": spec.get("input_tpm", dep.input_tpm) if dep.plan == "ptu" else None,
        "output_tpm": spec.get("output_tpm", dep.output_tpm) if dep.plan == "ptu" else None,
    }
    events = [CapacityEvent(at=dep.created_at, kind="created", **first)]
    current = dict(first)
    for req in requests:
        scale = (req.payload or {}).get("scale")
        if req.kind == "scale" and scale and req.executed_at:
            for key in ("units", "input_tpm", "output_tpm"):
                if scale.get(key) is not None:
                    current[key] = scale[key]
            events.append(CapacityEvent(at=req.executed_at, kind="scaled", **current))
        if req.kind == "unpublish" and req.executed_at:
            events.append(CapacityEvent(at=req.executed_at, kind="unpublished"))
    for row in audit_log.status_changes(session, dep.id):
        old, new = row.detail.get("old"), row.detail.get("new")
        if new in STOPPED and old not in STOPPED:
            events.append(CapacityEvent(at=row.at, kind="stopped"))
        elif old in STOPPED and new == "RUNNING":
            events.append(CapacityEvent(at=row.at, kind="resumed"))
        elif new in GONE and not any(e.kind == "unpublished" for e in events):
            events.append(CapacityEvent(at=row.at, kind="unpublished"))
    orders = [
        PrepaidOrder(
            ordered_at=o.ordered_at,
            days=o.quantity if o.kind == "ptu_daily" else 30 * o.quantity,
            paid=o.amount,
            **first,
        )
        for o in order_rows.for_deployment(session, dep.id)
    ]
    calls = (
        [
            OverflowCall(
                at=c.at,
                input_tokens=c.input_tokens,
                output_tokens=c.output_tokens,
                reasoning_tokens=c.reasoning_tokens,
                overflow=c.overflow,
            )
            for c in usage_rows.successful_calls(session, dep.deployed_model)
        ]
        if dep.deployed_model
        else []
    )
    return DeploymentHistory(
        deployment_id=dep.id,
        model=dep.model,
        plan=dep.plan,
        mode=dep.mode,
        billing=dep.billing,
        events=sorted(events, key=lambda e: e.at),
        orders=orders,
        calls=calls,
    )


def deployment_accruals(
    ctx: WorkflowContext, target: str | None, start: datetime, end: datetime
) -> list[tuple[DeploymentRecord, Accrual]]:
    """Accruals of one deployment (`target`) or all of them, unpublished ones included."""
    deps = (
        [ctx.get_deployment(target)]
        if target and target != "all"
        else ctx.list_deployments(include_deleted=True)
    )
    with ctx.store.session() as session:
        return [
            (dep, accrue(_history(session, dep), start, end, ctx.catalog, ctx.rules))
            for dep in deps
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
                plan=dep.plan,
                billing=dep.billing,
                currency=acc.currency,
                total=Decimal(acc.total),
                by_kind=acc.by_kind(),
                lines=list(acc.lines),
            )
            for dep, acc in accruals
        ],
    )


def render_cost_text(report: CostReport) -> str:
    """The plain-text rendering of a cost report (the core's text renderer registers this)."""
    from modeldeck.render import table

    rows = []
    for dep in report.deployments:
        name = dep.deployed_model or dep.id
        if not dep.lines:
            rows.append((name, "-", "nothing billed in this period", format_amount(Decimal(0))))
        for line in dep.lines:
            rows.append(
                (name, line.kind, line.description, format_amount(line.amount, line.currency))
            )
    who = "all deployments" if report.target == "all" else report.target
    header = f"Spend {iso(report.period.start)} .. {iso(report.period.end)} (Beijing time), {who}:"
    body = table(("deployment", "item", "detail", "amount"), rows) if rows else "No deployments."
    return f"{header}\n{body}\nTotal: {format_amount(report.total, report.currency)}"
