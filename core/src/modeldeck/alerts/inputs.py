"""Alert inputs read from the store in a few grouped queries (not one per deployment):
deployment states with their last call, recent overflow per deployment, prepaid orders."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from modeldeck.alerts.models import DeploymentState, OrderState, OverflowWindow
from modeldeck.billing.accrual import Capacity
from modeldeck.billing.timeline import order_timeline
from modeldeck.budgets.models import BudgetTarget
from modeldeck.store.models import DeploymentRow, OrderRow
from modeldeck.store.spend_queries import (
    deployment_ids_by_model,
    last_minute_by_model,
    last_status_change,
    live_deployments,
    minute_overflow,
    orders_oldest_first,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

GONE = {"DELETED"}


def _capacity(row: DeploymentRow) -> Capacity:
    # Rows come from the store, already valid: built without re-validation (one per deployment).
    if row.plan == "mu":
        return Capacity.model_construct(units=row.units)
    return Capacity.model_construct(
        input_tpm=row.input_tpm,
        output_tpm=row.output_tpm,
        thinking_output_tpm=row.thinking_output_tpm,
    )


def deployment_states(
    session: Session,
    tags: dict[str, dict[str, str]] | None = None,
    observed: dict[str, Capacity] | None = None,
) -> list[DeploymentState]:
    """Every deployment not deleted, with its last status change and last metered minute.

    Tags are the deployment's stored ones, with `tags` (by deployment id) added on top;
    `observed` is the capacity the provider reports (from the reconciler), by deployment id.
    """
    last_minute = last_minute_by_model(session)
    since = last_status_change(session)
    out = []
    for row in live_deployments(session):
        if row.status in GONE:
            continue
        changed = since.get(row.id)
        out.append(
            DeploymentState.model_construct(
                target=BudgetTarget.model_construct(
                    id=row.id,
                    deployed_model=row.deployed_model,
                    name=row.name,
                    tags={**(row.tags or {}), **(tags or {}).get(row.id, {})},
                ),
                status=row.status,
                plan=row.plan,
                billing=row.billing,
                created_at=row.created_at,
                status_since=changed,
                last_call_at=last_minute.get(row.deployed_model) if row.deployed_model else None,
                recorded=_capacity(row),
                observed=(observed or {}).get(row.id),
                arrears_since=changed if row.status == "ARREARS_DOWN" else None,
            )
        )
    return out


def overflow_windows(session: Session, since: datetime, until: datetime) -> list[OverflowWindow]:
    """Input and overflow tokens and overflow cost per deployment over [since, until), from the
    per-minute roll-up (minutes starting in the window)."""
    ids = deployment_ids_by_model(session)
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    cost: dict[str, Decimal] = defaultdict(Decimal)
    rows = minute_overflow(session, since, until)
    for model, tokens, over, amount in rows:
        key = ids.get(model, model)
        sums[key][0] += tokens
        sums[key][1] += over
        cost[key] += amount or 0
    return [
        OverflowWindow(
            deployment=key,
            start=since,
            end=until,
            input_tokens=tokens,
            overflow_input_tokens=over,
            overflow_cost=cost[key],
        )
        for key, (tokens, over) in sums.items()
    ]


def order_states(
    session: Session, now: datetime, late: timedelta = timedelta(hours=24)
) -> list[OrderState]:
    """The latest prepaid order of each deployment (a newer order renews an older one), unless
    released longer ago than `late`; its timeline from the row, or computed from the order time
    when the row has none."""
    latest: dict[str, OrderRow] = {}
    for row in orders_oldest_first(session):
        latest[row.deployment_id] = row
    out = []
    for row in latest.values():
        days = row.quantity if row.kind == "ptu_daily" else 30 * row.quantity
        timeline = None
        if row.expires_at is None or row.stops_at is None or row.released_at is None:
            timeline = order_timeline(row.ordered_at, days)
        released = row.released_at or (timeline.released_at if timeline else now)
        if released + late < now:
            continue
        out.append(
            OrderState(
                order_id=row.id,
                deployment_id=row.deployment_id,
                expires_at=row.expires_at or timeline.expires_at,  # type: ignore[union-attr]
                stops_at=row.stops_at or timeline.stops_at,  # type: ignore[union-attr]
                released_at=released,
            )
        )
    return out
