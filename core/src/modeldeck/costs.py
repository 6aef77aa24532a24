"""Cost queries: what deployments have cost over a period, by line item, from the store.

Builds each deployment's history (creation, executed scales, status changes, unpublish, upfront
orders, metered overflow calls) and hands it to the billing engine's accrual.
**Decision**: reserved time is billed from the moment the deployment is created at the provider
(not from RUNNING): modeldeck errs on the side of showing more spend, never less.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from modeldeck.billing.accrual import (
    Accrual,
    CapacityEvent,
    DeploymentHistory,
    OverflowCall,
    PrepaidOrder,
    accrue,
)
from modeldeck.billing.periods import parse_period
from modeldeck.domain import DeploymentRecord
from modeldeck.money import format_amount
from modeldeck.render import table
from modeldeck.store.models import AuditRow, OrderRow, RequestRow, UsageCallRow
from modeldeck.timeutil import iso

if TYPE_CHECKING:
    from modeldeck.deck import Deck

STOPPED = {"STOPPED", "ARREARS_DOWN", "OFFLINING"}
GONE = {"DELETING", "DELETED"}


@dataclass
class CostReport:
    """A cost query's answer: text for people, data for machines."""

    text: str
    data: dict[str, Any]


def resolve_period(period: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) in Beijing time for every period the grammar accepts (billing's rules)."""
    return parse_period(period or "month", now)


def _history(session: Any, dep: DeploymentRecord) -> DeploymentHistory:
    requests = list(
        session.scalars(
            select(RequestRow)
            .where(RequestRow.deployment_id == dep.id, RequestRow.status == "executed")
            .order_by(RequestRow.executed_at)
        )
    )
    created_req = session.get(RequestRow, dep.request_id) if dep.request_id else None
    spec = (created_req.payload or {}).get("deploy", {}) if created_req else {}
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
    for row in session.scalars(
        select(AuditRow)
        .where(AuditRow.subject == dep.id, AuditRow.action == "status")
        .order_by(AuditRow.id)
    ):
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
        for o in session.scalars(select(OrderRow).where(OrderRow.deployment_id == dep.id))
    ]
    calls = [
        OverflowCall(
            at=c.at,
            input_tokens=c.input_tokens,
            output_tokens=c.output_tokens,
            reasoning_tokens=c.reasoning_tokens,
            overflow=c.overflow,
        )
        for c in session.scalars(
            select(UsageCallRow).where(
                UsageCallRow.deployed_model == dep.deployed_model, UsageCallRow.status_code < 400
            )
        )
        if dep.deployed_model
    ]
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
    deck: Deck, target: str | None, start: datetime, end: datetime
) -> list[tuple[DeploymentRecord, Accrual]]:
    """Accruals of one deployment (`target`) or all of them, unpublished ones included."""
    deps = (
        [deck.get_deployment(target)]
        if target and target != "all"
        else deck.list_deployments(include_deleted=True)
    )
    out = []
    with deck.store.session() as session:
        for dep in deps:
            out.append((dep, accrue(_history(session, dep), start, end, deck.catalog, deck.rules)))
    return out


def cost_report(
    deck: Deck, target: str | None, period: str | None, now: datetime | None = None
) -> CostReport:
    """The `cost` command: spend by deployment and line item over a period."""
    start, end = resolve_period(period, now)
    accruals = deployment_accruals(deck, target, start, end)
    currency = accruals[0][1].currency if accruals else "USD"
    total = sum(
        (deck.catalog.convert(a.total, a.currency, currency) for _, a in accruals), Decimal(0)
    )
    rows = []
    for dep, acc in accruals:
        name = dep.deployed_model or dep.id
        if not acc.lines:
            rows.append((name, "-", "nothing billed in this period", format_amount(Decimal(0))))
        for line in acc.lines:
            rows.append(
                (name, line.kind, line.description, format_amount(line.amount, line.currency))
            )
    header = (
        f"Spend {iso(start)} .. {iso(end)} (Beijing time), "
        f"{'all deployments' if not target or target == 'all' else target}:"
    )
    body = table(("deployment", "item", "detail", "amount"), rows) if rows else "No deployments."
    text = f"{header}\n{body}\nTotal: {format_amount(total, currency)}"
    data = {
        "period": {"name": period or "month", "start": iso(start), "end": iso(end)},
        "currency": currency,
        "total": str(total),
        "deployments": [
            {
                "id": dep.id,
                "deployed_model": dep.deployed_model,
                "model": dep.model,
                "plan": dep.plan,
                "billing": dep.billing,
                "total": str(acc.total),
                "by_kind": {k: str(v) for k, v in acc.by_kind().items()},
                "lines": [line.model_dump(mode="json") for line in acc.lines],
            }
            for dep, acc in accruals
        ],
    }
    return CostReport(text=text, data=data)
