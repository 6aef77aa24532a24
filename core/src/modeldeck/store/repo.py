"""Reads and writes of the store in domain terms; every state change is a compare-and-set."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modeldeck.domain import (
    BudgetEffect,
    Decision,
    DeploymentRecord,
    DeploySpec,
    Estimate,
    LimitsSpec,
    PolicyDecision,
    RenewSpec,
    RequestRecord,
    RequestStatus,
    ScaleSpec,
)
from modeldeck.errors import NotFound
from modeldeck.schedules.spec import ScheduleSpec
from modeldeck.store.models import AuditRow, Base, DecisionRow, DeploymentRow, RequestRow
from modeldeck.timeutil import utcnow


def new_id(prefix: str) -> str:
    """A short random id such as `req_7f3a9c2e1b`: unguessable, readable in Slack."""
    return f"{prefix}_{secrets.token_hex(5)}"


# --- deployments -------------------------------------------------------------------------


def deployment_to_record(row: DeploymentRow) -> DeploymentRecord:
    return DeploymentRecord(
        id=row.id,
        deployed_model=row.deployed_model,
        name=row.name,
        model=row.model,
        plan=row.plan,
        mode=row.mode,
        billing=row.billing,
        status=row.status,
        units=row.units,
        input_tpm=row.input_tpm,
        output_tpm=row.output_tpm,
        thinking_output_tpm=row.thinking_output_tpm,
        rpm_limit=row.rpm_limit,
        tpm_limit=row.tpm_limit,
        request_id=row.request_id,
        imported=row.imported,
        created_at=row.created_at,
        updated_at=row.updated_at,
        provider_data=row.provider_data or {},
        price_note=row.price_note,
        tags=row.tags or {},
    )


def list_deployments(session: Session, include_deleted: bool = False) -> list[DeploymentRow]:
    query = select(DeploymentRow).order_by(DeploymentRow.created_at)
    if not include_deleted:
        query = query.where(DeploymentRow.deleted_at.is_(None))
    return list(session.scalars(query))


def find_deployment(session: Session, ref: str) -> DeploymentRow:
    """By id, deployed model code, or display name (case-insensitive); NotFound otherwise."""
    rows = list_deployments(session, include_deleted=True)
    wanted = ref.strip().lower()
    for attr in ("id", "deployed_model", "name"):
        matches = [r for r in rows if (getattr(r, attr) or "").lower() == wanted]
        live = [r for r in matches if r.deleted_at is None]
        if live or matches:
            return (live or matches)[-1]
    known = ", ".join(r.deployed_model or r.id for r in rows if r.deleted_at is None) or "none yet"
    raise NotFound(
        f"No deployment called {ref!r}.",
        hint=f"Use the id or Model Code that `list` shows (current: {known}).",
    )


# --- requests ----------------------------------------------------------------------------


def request_to_record(row: RequestRow, decisions: list[DecisionRow]) -> RequestRecord:
    payload = row.payload or {}
    return RequestRecord(
        id=row.id,
        kind=row.kind,
        status=RequestStatus(row.status),
        requester=row.requester,
        surface=row.surface,
        reason=row.reason,
        deploy=DeploySpec.model_validate(payload["deploy"]) if payload.get("deploy") else None,
        scale=ScaleSpec.model_validate(payload["scale"]) if payload.get("scale") else None,
        limits=LimitsSpec.model_validate(payload["limits"]) if payload.get("limits") else None,
        renew=RenewSpec.model_validate(payload["renew"]) if payload.get("renew") else None,
        schedule=(
            ScheduleSpec.model_validate(payload["schedule"]) if payload.get("schedule") else None
        ),
        deployment_id=row.deployment_id,
        estimate=Estimate.model_validate(row.estimate) if row.estimate else None,
        policy=PolicyDecision.model_validate(row.policy),
        decisions=[
            Decision(
                principal=d.principal,
                surface=d.surface,
                verdict=d.verdict,
                reason=d.reason,
                at=d.at,
            )
            for d in sorted(decisions, key=lambda d: d.id)
        ],
        created_at=row.created_at,
        expires_at=row.expires_at,
        decided_at=row.decided_at,
        executed_at=row.executed_at,
        error=row.error,
        refs=dict(row.refs or {}),
        target=DeploySpec.model_validate(payload["target"]) if payload.get("target") else None,
        basis=dict(payload["basis"]) if payload.get("basis") else None,
        idempotency_key=row.idempotency_key,
        budget_effect=[BudgetEffect.model_validate(e) for e in payload.get("budget_effect", [])],
        budget_effect_unknown=payload.get("budget_effect_unknown"),
    )


def load_request(session: Session, request_id: str) -> RequestRecord:
    row = session.get(RequestRow, request_id)
    if row is None:
        raise NotFound(
            f"No request {request_id!r}.", hint="`approvals` lists the requests waiting for you."
        )
    decisions = list(session.scalars(select(DecisionRow).where(DecisionRow.request_id == row.id)))
    return request_to_record(row, decisions)


def insert_request_once(session: Session, record: RequestRecord) -> bool:
    """Insert a request; False when its requester already used its idempotency key (a racing
    replay won), leaving the caller's transaction usable."""
    if record.idempotency_key is None:  # nothing to collide with: no savepoint needed
        insert_request(session, record)
        return True
    try:
        with session.begin_nested():
            insert_request(session, record)
            session.flush()
    except IntegrityError:
        return False
    return True


def by_idempotency_key(session: Session, requester: str, key: str) -> RequestRecord | None:
    """The request `requester` submitted with `key`, if any."""
    found = session.scalar(
        select(RequestRow.id).where(
            RequestRow.requester == requester, RequestRow.idempotency_key == key
        )
    )
    return load_request(session, found) if found is not None else None


def insert_request(session: Session, record: RequestRecord) -> None:
    payload: dict[str, Any] = {}
    for key in ("deploy", "scale", "limits", "renew", "schedule", "target"):
        spec = getattr(record, key)
        if spec is not None:
            payload[key] = spec.model_dump(mode="json", exclude_none=key == "target")
    if record.basis is not None:
        payload["basis"] = dict(record.basis)
    if record.budget_effect:
        payload["budget_effect"] = [e.model_dump(mode="json") for e in record.budget_effect]
    if record.budget_effect_unknown is not None:
        payload["budget_effect_unknown"] = record.budget_effect_unknown
    session.add(
        RequestRow(
            id=record.id,
            kind=record.kind,
            status=record.status.value,
            version=0,
            requester=record.requester,
            surface=record.surface,
            reason=record.reason,
            payload=payload,
            deployment_id=record.deployment_id,
            estimate=record.estimate.model_dump(mode="json") if record.estimate else None,
            policy=record.policy.model_dump(mode="json"),
            refs=dict(record.refs),
            idempotency_key=record.idempotency_key,
            created_at=record.created_at,
            expires_at=record.expires_at,
        )
    )


def compare_and_set(
    session: Session, table: type[Base], conditions: Sequence[Any], values: dict[str, Any]
) -> bool:
    """UPDATE one row only if `conditions` still hold; True for the one caller that changed it."""
    result = session.execute(
        update(table)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def transition(
    session: Session,
    request_id: str,
    from_status: RequestStatus | tuple[RequestStatus, ...],
    to_status: RequestStatus,
    **values: Any,
) -> bool:
    """Compare-and-set a request's status; True only for the one caller that moved it."""
    allowed = (from_status,) if isinstance(from_status, RequestStatus) else from_status
    return compare_and_set(
        session,
        RequestRow,
        [RequestRow.id == request_id, RequestRow.status.in_([s.value for s in allowed])],
        {"status": to_status.value, "version": RequestRow.version + 1, **values},
    )


def lock_request(session: Session, request_id: str) -> bool:
    """Hold the request's row for the rest of this transaction; False if there is no such request.

    A no-op UPDATE takes the row lock on PostgreSQL and SQLite's write lock up front, so the
    decisions on one request run one at a time and each sees every vote committed before it.
    """
    return compare_and_set(
        session, RequestRow, [RequestRow.id == request_id], {"version": RequestRow.version}
    )


# The PostgreSQL advisory lock that serialises auto-approvals under a window budget (724311 is the
# migrations' lock).
AUTO_APPROVE_BUDGET_LOCK = 724312


def lock_auto_approve_budgets(session: Session) -> None:
    """Hold the auto-approve budgets for the rest of this transaction, across replicas.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a no-op UPDATE (of no row) takes the
    database's write lock up front, as `lock_request` does. Call it first in the transaction, so
    the reads after it see every auto-approval committed before it.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUTO_APPROVE_BUDGET_LOCK}
        )
        return
    compare_and_set(session, RequestRow, [RequestRow.id == ""], {"version": RequestRow.version})


def add_decision(
    session: Session,
    request_id: str,
    principal: str,
    surface: str,
    verdict: str,
    reason: str | None,
    at: datetime,
) -> bool:
    """Record one principal's vote; False if they already voted on this request."""
    try:
        with session.begin_nested():
            session.add(
                DecisionRow(
                    request_id=request_id,
                    principal=principal,
                    surface=surface,
                    verdict=verdict,
                    reason=reason,
                    at=at,
                )
            )
    except IntegrityError:
        return False
    return True


# --- audit -------------------------------------------------------------------------------


def audit(
    session: Session,
    *,
    actor: str,
    surface: str,
    action: str,
    subject: str | None = None,
    cost_estimate: Decimal | None = None,
    **detail: Any,
) -> None:
    """Append one audit record (there is deliberately no update or delete)."""
    session.add(
        AuditRow(
            at=utcnow(),
            actor=actor,
            surface=surface,
            action=action,
            subject=subject,
            cost_estimate=cost_estimate,
            detail=detail,
        )
    )
