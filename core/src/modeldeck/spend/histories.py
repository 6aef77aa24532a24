"""Every deployment's billing history from the store in grouped queries.

The one builder of a deployment's `DeploymentHistory` (creation, executed scales and
unpublishes, status changes, prepaid orders, metered calls), used by the cost query and the
forecasts alike; the reads are `store.spend_queries` (grouped, calls as columns).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from modeldeck.billing.accrual import CapacityEvent, DeploymentHistory, OverflowCall, PrepaidOrder
from modeldeck.billing.call_columns import CallColumns
from modeldeck.billing.overflow import is_billable_overflow
from modeldeck.catalog import Catalog
from modeldeck.errors import CatalogError
from modeldeck.store.models import AuditRow, DeploymentRow, OrderRow, RequestRow
from modeldeck.store.spend_queries import answered_calls, history_rows
from modeldeck.timeutil import ensure_aware

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# ARREARS_DOWN is not stopped: the seed keeps (and bills) it 24 h, then it is released
STOPPED = {"STOPPED", "OFFLINING"}
GONE = {"DELETING", "DELETED"}


class StoredHistory(NamedTuple):
    """A deployment's row, its history, and (in columns mode) its billable calls as columns."""

    row: DeploymentRow
    history: DeploymentHistory
    calls: CallColumns | None = None


def _max_input(catalog: Catalog, model: str) -> int | None:
    try:
        return catalog.model_info(catalog.resolve_model(model)).max_input
    except CatalogError:
        return None


def load_histories(
    session: Session,
    deployment_ids: set[str] | None = None,
    *,
    columns: Catalog | None = None,
    with_calls: bool = True,
    calls_since: datetime | None = None,
) -> list[StoredHistory]:
    """Every deployment's history, unpublished ones included (or only `deployment_ids`).

    With `columns` (the catalog, for each model's max input), only billable calls are read and
    they come as `CallColumns` beside a history without calls: the fast path for forecasts.
    Without it, histories carry every successful call. `with_calls=False` reads no calls (the
    cost query sums them in SQL); `calls_since` reads only calls at or after that instant.
    """
    rows = history_rows(session, deployment_ids)
    deps = rows.deployments
    by_model = {d.deployed_model: d.id for d in deps if d.deployed_model}
    # A code deployed again after an unpublish has several rows: a call belongs to the row
    # created last before it (rows come ordered by creation).
    reused: dict[str, list[DeploymentRow]] = defaultdict(list)
    for d in deps:
        if d.deployed_model:
            reused[d.deployed_model].append(d)
    reused = {code: rs for code, rs in reused.items() if len(rs) > 1}
    calls: dict[str, list[OverflowCall]] = defaultdict(list)
    cols: dict[str, CallColumns] = defaultdict(CallColumns)
    longer_than = None
    limits: dict[str, int | None] = {}
    if columns is not None:
        limits = {d.id: _max_input(columns, d.model) for d in deps}
        known = [m for m in limits.values() if m is not None]
        if known:  # read only calls that can be billable (no max input: only flagged ones)
            longer_than = min(known)
    if by_model and with_calls:
        for model, at, tokens_in, tokens_out, reasoning, overflow in answered_calls(
            session, longer_than=longer_than, since=calls_since
        ):
            dep_id = by_model.get(model)
            if dep_id is None:
                continue
            if model in reused:
                dep_id = _row_at(reused[model], at)
            if columns is not None:
                if is_billable_overflow(overflow, tokens_in, limits[dep_id]):
                    cols[dep_id].add(at, tokens_in, tokens_out, reasoning)
                continue
            # Rows come from the store, already valid: skip re-validation.
            calls[dep_id].append(
                OverflowCall.model_construct(
                    at=at,
                    input_tokens=tokens_in,
                    output_tokens=tokens_out,
                    reasoning_tokens=reasoning,
                    overflow=overflow,
                )
            )
    requests, statuses, orders = rows.executed, rows.statuses, rows.orders
    created = rows.created
    return [
        StoredHistory(
            dep,
            _history(
                dep,
                created.get(dep.request_id or ""),
                requests[dep.id],
                statuses[dep.id],
                orders[dep.id],
                calls[dep.id],
            ),
            cols[dep.id] if columns is not None else None,
        )
        for dep in deps
    ]


def _row_at(rows: list[DeploymentRow], at: datetime) -> str:
    """The row of a reused Model Code that was live at `at` (the one created last before it)."""
    chosen = rows[0]
    for row in rows:
        if ensure_aware(row.created_at) <= ensure_aware(at):
            chosen = row
    return chosen.id


def _history(
    dep: DeploymentRow,
    created_req: RequestRow | None,
    requests: list[RequestRow],
    statuses: list[AuditRow],
    orders: list[OrderRow],
    calls: list[OverflowCall],
) -> DeploymentHistory:
    spec = (created_req.payload or {}).get("deploy", {}) if created_req else {}
    first: dict[str, Any] = {
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
    for row in statuses:
        old, new = row.detail.get("old"), row.detail.get("new")
        if new in STOPPED and old not in STOPPED:
            events.append(CapacityEvent(at=row.at, kind="stopped"))
        elif old in STOPPED and new == "RUNNING":
            events.append(CapacityEvent(at=row.at, kind="resumed"))
        elif new in GONE and not any(e.kind in ("unpublished", "released") for e in events):
            effective = row.detail.get("effective_at")  # an arrears release, seen later
            if effective:
                events.append(CapacityEvent(at=datetime.fromisoformat(effective), kind="released"))
            else:
                events.append(CapacityEvent(at=row.at, kind="unpublished"))
    prepaid = [
        PrepaidOrder(
            ordered_at=o.ordered_at,
            days=o.quantity if o.kind == "ptu_daily" else 30 * o.quantity,
            paid=o.amount,
            **first,
        )
        for o in orders
    ]
    return DeploymentHistory(
        deployment_id=dep.id,
        model=dep.model,
        plan=dep.plan,
        mode=dep.mode,
        billing=dep.billing,
        events=sorted(events, key=lambda e: e.at),
        orders=prepaid,
        calls=calls if dep.deployed_model else [],
    )
