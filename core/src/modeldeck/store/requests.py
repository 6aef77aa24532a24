"""Request queries beyond one record: listings, expiry candidates, refs, work to recover."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from modeldeck.domain import DeploymentRecord, RequestRecord, RequestStatus
from modeldeck.errors import NotFound
from modeldeck.store.models import DecisionRow, DeploymentRow, RequestRow
from modeldeck.store.repo import (
    compare_and_set,
    deployment_to_record,
    load_request,
    request_to_record,
)


def list_requests(session: Session, status: str | None = None) -> list[RequestRecord]:
    """Requests oldest first, optionally of one status: two queries whatever their number."""
    return _load_where(session, RequestRow.status == status if status else None)


def _load_where(session: Session, condition: ColumnElement[bool] | None) -> list[RequestRecord]:
    """Requests matching `condition`, oldest first, with their votes: two queries in all."""
    query = select(RequestRow).order_by(RequestRow.created_at, RequestRow.id)
    if condition is not None:
        query = query.where(condition)
    rows = list(session.scalars(query))
    votes: dict[str, list[DecisionRow]] = defaultdict(list)
    if rows:
        wanted = select(RequestRow.id).order_by(None)
        if condition is not None:
            wanted = wanted.where(condition)
        for vote in session.scalars(
            select(DecisionRow).where(DecisionRow.request_id.in_(wanted)).order_by(DecisionRow.id)
        ):
            votes[vote.request_id].append(vote)
    return [request_to_record(row, votes[row.id]) for row in rows]


def pending_past(session: Session, now: datetime) -> list[str]:
    """Ids of pending requests whose TTL ran out before `now`."""
    return list(
        session.scalars(
            select(RequestRow.id).where(
                RequestRow.status == RequestStatus.PENDING.value, RequestRow.expires_at < now
            )
        )
    )


def created_since(
    session: Session, since: datetime, statuses: Collection[str] | None = None
) -> list[RequestRecord]:
    """Requests created at or after `since` (of `statuses` if given), oldest first: the policy's
    budget window. Two queries whatever their number, so pending requests cost nothing."""
    condition = RequestRow.created_at >= since
    if statuses is not None:
        condition = and_(condition, RequestRow.status.in_(list(statuses)))
    return _load_where(session, condition)


def pending_on_deployments(session: Session) -> list[RequestRecord]:
    """Pending requests on an existing deployment (whose target may have changed since)."""
    ids = session.scalars(
        select(RequestRow.id).where(
            RequestRow.status == RequestStatus.PENDING.value, RequestRow.deployment_id.is_not(None)
        )
    )
    return [load_request(session, i) for i in list(ids)]


def deployment_of(session: Session, record: RequestRecord) -> DeploymentRecord | None:
    """The deployment a request is about, as stored now (None if it is not there any more)."""
    if record.deployment_id is None:
        return None
    row = session.get(DeploymentRow, record.deployment_id)
    return deployment_to_record(row) if row is not None else None


def set_ref(session: Session, request_id: str, key: str, value: str) -> None:
    """Remember where a surface shows a request (Slack channel and ts...)."""
    row = session.get(RequestRow, request_id)
    if row is None:
        raise NotFound(f"No request {request_id!r}.")
    row.refs = {**(row.refs or {}), key: value}


def models_being_deployed(session: Session) -> set[str]:
    """Base models (lower case) of deploy requests executing right now."""
    payloads = session.scalars(
        select(RequestRow.payload).where(
            RequestRow.status == RequestStatus.EXECUTING.value, RequestRow.kind == "deploy"
        )
    )
    return {str((p or {}).get("deploy", {}).get("model", "")).lower() for p in payloads}


def unfinished(session: Session) -> list[RequestRow]:
    """Approved or executing requests (what recovery looks at)."""
    return list(
        session.scalars(
            select(RequestRow).where(
                RequestRow.status.in_([RequestStatus.APPROVED.value, RequestStatus.EXECUTING.value])
            )
        )
    )


def take_over_claim(
    session: Session, request_id: str, version: int, worker: str, now: datetime
) -> bool:
    """Re-claim a stuck execution if nobody changed it since `version` was read."""
    return compare_and_set(
        session,
        RequestRow,
        [
            RequestRow.id == request_id,
            RequestRow.status == RequestStatus.EXECUTING.value,
            RequestRow.version == version,
        ],
        {"claimed_by": worker, "claimed_at": now, "version": RequestRow.version + 1},
    )
