"""Grouped reads for costs, forecasts, charts and alerts: one query per table, never one per
deployment, and calls as plain columns (no ORM object per call)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from modeldeck.store.models import (
    AuditRow,
    DeploymentRow,
    OrderRow,
    RequestRow,
    UsageCallRow,
    UsageMinuteRow,
)


class CallTuple(NamedTuple):
    """One answered call's billing columns."""

    deployed_model: str
    at: datetime
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    overflow: bool


@dataclass
class HistoryRows:
    """Everything a deployment's billing history is built from, grouped by deployment id."""

    deployments: list[DeploymentRow]
    created: dict[str, RequestRow] = field(default_factory=dict)  # by request id
    executed: dict[str, list[RequestRow]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, list[AuditRow]] = field(default_factory=lambda: defaultdict(list))
    orders: dict[str, list[OrderRow]] = field(default_factory=lambda: defaultdict(list))


def history_rows(session: Session, deployment_ids: set[str] | None = None) -> HistoryRows:
    """Deployments (all, unpublished included, or only `deployment_ids`), their creating and
    executed requests, status changes and orders: four queries whatever the count (for all of
    them, no list of ids is sent: thousands of bound ids cost more than the rows)."""
    query = select(DeploymentRow).order_by(DeploymentRow.created_at, DeploymentRow.id)
    if deployment_ids is not None:
        query = query.where(DeploymentRow.id.in_(deployment_ids))
    out = HistoryRows(deployments=list(session.scalars(query)))
    wanted = {d.id for d in out.deployments}
    request_ids = {d.request_id for d in out.deployments if d.request_id}
    executed = RequestRow.status == "executed"
    if deployment_ids is None:
        creating = select(DeploymentRow.request_id).where(DeploymentRow.request_id.is_not(None))
        requests = select(RequestRow).where(executed | RequestRow.id.in_(creating))
        statuses = select(AuditRow).where(AuditRow.action == "status")
        orders = select(OrderRow)
    else:
        requests = select(RequestRow).where(
            (RequestRow.deployment_id.in_(wanted) & executed) | RequestRow.id.in_(request_ids)
        )
        statuses = select(AuditRow).where(AuditRow.action == "status", AuditRow.subject.in_(wanted))
        orders = select(OrderRow).where(OrderRow.deployment_id.in_(wanted))
    for req in session.scalars(requests.order_by(RequestRow.executed_at)):
        if req.id in request_ids:
            out.created[req.id] = req
        if req.deployment_id in wanted and req.status == "executed":
            out.executed[req.deployment_id].append(req)
    for row in session.scalars(statuses.order_by(AuditRow.id)):
        if row.subject in wanted:
            out.statuses[row.subject or ""].append(row)
    for order in session.scalars(orders):
        if order.deployment_id in wanted:
            out.orders[order.deployment_id].append(order)
    return out


def _billable_parts(
    session: Session,
    longer_than: int | None,
    since: datetime | None,
    until: datetime | None,
) -> list[list[Any]]:
    """Conditions (answered calls, since <= at < until) that select the calls that can bill,
    as parts each served by an index: flagged ones (the partial `ix_usage_calls_flagged_at`)
    and unflagged ones longer than `longer_than` (`input_tokens`). One OR would make both
    databases scan the period's calls; the parts are disjoint.

    Without statistics SQLite takes a two-sided time range for the most selective condition
    and reads the whole period for the long calls (seconds at a million calls, instead of a
    few milliseconds): on SQLite the long part tells its planner which condition is rare
    (`likely`/`unlikely` change no result, only the plan)."""
    window: list[Any] = [UsageCallRow.status_code < 400]
    if since is not None:
        window.append(UsageCallRow.at >= since)
    if until is not None:
        window.append(UsageCallRow.at < until)
    if longer_than is None:
        return [window]
    flagged = [*window, UsageCallRow.overflow == True]  # noqa: E712 (SQL, the partial index)
    long_calls: Any = UsageCallRow.input_tokens > longer_than
    period = window[1:]
    if session.get_bind().dialect.name == "sqlite":
        long_calls = func.unlikely(long_calls)
        period = [func.likely(term) for term in period]
    unflagged = [
        window[0],
        *period,
        UsageCallRow.overflow == False,  # noqa: E712 (SQL)
        long_calls,
    ]
    return [flagged, unflagged]


def answered_calls(
    session: Session,
    *,
    longer_than: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[CallTuple]:
    """Answered calls (HTTP < 400) as columns, by deployed model then time (ties by id).

    `longer_than`: only calls flagged overflow or with more input tokens than that (the only
    ones that can bill); `since`/`until`: only calls with since <= at < until.
    """
    columns = (
        UsageCallRow.deployed_model,
        UsageCallRow.at,
        UsageCallRow.id,
        UsageCallRow.input_tokens,
        UsageCallRow.output_tokens,
        UsageCallRow.reasoning_tokens,
        UsageCallRow.overflow,
    )
    # Sorted here, not in SQL: asked for that order, SQLite reads every call through the
    # (deployed_model, at) index to avoid a sort instead of the few billable ones by index.
    rows = [
        row
        for part in _billable_parts(session, longer_than, since, until)
        for row in session.execute(select(*columns).where(*part))
    ]
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    for model, at, _id, tokens_in, tokens_out, reasoning, overflow in rows:
        yield CallTuple(model, at, tokens_in, tokens_out, reasoning, overflow)


def last_minute_by_model(session: Session) -> dict[str, datetime]:
    """Each deployed model's newest metered minute."""
    query = select(UsageMinuteRow.deployed_model, func.max(UsageMinuteRow.minute)).group_by(
        UsageMinuteRow.deployed_model
    )
    return {m: at for m, at in session.execute(query)}


def last_status_change(session: Session) -> dict[str, datetime]:
    """Each subject's newest recorded status change."""
    query = (
        select(AuditRow.subject, func.max(AuditRow.at))
        .where(AuditRow.action == "status")
        .group_by(AuditRow.subject)
    )
    return {s: at for s, at in session.execute(query) if s is not None}


def live_deployments(session: Session) -> list[DeploymentRow]:
    """Deployments without a deletion time."""
    return list(session.scalars(select(DeploymentRow).where(DeploymentRow.deleted_at.is_(None))))


def deployment_ids_by_model(session: Session) -> dict[str, str]:
    """Deployment id of each deployed model name."""
    query = select(DeploymentRow.deployed_model, DeploymentRow.id).where(
        DeploymentRow.deployed_model.is_not(None)
    )
    return {m: i for m, i in session.execute(query) if m is not None}


class MinuteOverflow(NamedTuple):
    """One roll-up minute's input and overflow counters."""

    deployed_model: str
    input_tokens: int
    overflow_input_tokens: int
    overflow_cost: Decimal | None


def minute_overflow(session: Session, since: datetime, until: datetime) -> list[MinuteOverflow]:
    """Roll-up rows of every deployment with since <= minute < until."""
    query = select(
        UsageMinuteRow.deployed_model,
        UsageMinuteRow.input_tokens,
        UsageMinuteRow.overflow_input_tokens,
        UsageMinuteRow.overflow_cost,
    ).where(UsageMinuteRow.minute >= since, UsageMinuteRow.minute < until)
    return [MinuteOverflow(*row) for row in session.execute(query)]


def orders_oldest_first(session: Session) -> list[OrderRow]:
    """Every prepaid order by order time."""
    return list(session.scalars(select(OrderRow).order_by(OrderRow.ordered_at)))


class GroupedCalls(NamedTuple):
    """Answered calls of one deployed model summed per input bucket, overflow flag, reasoning."""

    deployed_model: str
    bucket: int
    overflow: bool
    reasoned: bool
    calls: int
    input_tokens: int
    output_tokens: int
    max_input_tokens: int


def grouped_calls(
    session: Session,
    since: datetime,
    until: datetime,
    bounds: list[int],
    *,
    longer_than: int | None = None,
    deployed_model: str | None = None,
) -> list[GroupedCalls]:
    """Answered calls with since <= at < until summed in SQL per (deployed model, bucket,
    overflow flag, reasoned): bucket k holds input lengths in (bounds[k-1], bounds[k]].

    `longer_than`: only calls flagged overflow or with more input tokens than that;
    `deployed_model`: only that model's calls.
    """
    tokens = UsageCallRow.input_tokens
    bucket = (
        case(*((tokens <= b, k) for k, b in enumerate(bounds)), else_=len(bounds))
        if bounds
        else None
    )
    reasoned = UsageCallRow.reasoning_tokens > 0
    keys = [UsageCallRow.deployed_model, UsageCallRow.overflow, reasoned]
    if bucket is not None:
        keys.insert(1, bucket)
    out = []
    for part in _billable_parts(session, longer_than, since, until):
        query = (
            select(
                *keys,
                func.count(),
                func.sum(UsageCallRow.input_tokens),
                func.sum(UsageCallRow.output_tokens),
                func.max(UsageCallRow.input_tokens),
            )
            .where(*part)
            .group_by(*keys)
        )
        if deployed_model is not None:
            query = query.where(UsageCallRow.deployed_model == deployed_model)
        out.extend(_grouped(session, query, bucket is not None))
    return out


def _grouped(session: Session, query: Any, bucketed: bool) -> list[GroupedCalls]:
    out = []
    for row in session.execute(query):
        values: list[Any] = list(row)
        if not bucketed:
            values.insert(1, 0)
        model, k, flag, why, n, t_in, t_out, top = values
        out.append(
            GroupedCalls(
                model, int(k), bool(flag), bool(why), int(n), int(t_in), int(t_out), int(top)
            )
        )
    return out
