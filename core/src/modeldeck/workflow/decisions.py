"""Decisions: approve or reject under the request's row lock, so racing approvers count once."""

from __future__ import annotations

from typing import Literal

from modeldeck import identity
from modeldeck.domain import (
    Actor,
    DecisionOutcome,
    RequestRecord,
    RequestStatus,
    WithdrawOutcome,
)
from modeldeck.errors import ConflictError, PermissionDenied
from modeldeck.events import ExecutionFailed, RequestDecided, RequestStale, RequestWithdrawn
from modeldeck.store import audit_log, repo
from modeldeck.store import requests as request_rows
from modeldeck.timeutil import utcnow
from modeldeck.workflow import execution, targets
from modeldeck.workflow.context import WorkflowContext


def approvals_of(record: RequestRecord) -> set[str]:
    """Who approved a request, never counting its requester (the quorum's figure)."""
    return set(record.approvers)  # counted in one place, `RequestRecord.approvers`


def decide(
    ctx: WorkflowContext,
    request_id: str,
    actor: Actor,
    verdict: Literal["approve", "reject"],
    reason: str | None,
) -> DecisionOutcome:
    """Record one vote; the vote that completes the quorum moves the request and executes it."""
    identity.require(actor, "decide")
    identity.check_module_access(ctx.settings, actor)
    expire_due(ctx)
    current = ctx.get_request(request_id)
    if current.status != RequestStatus.PENDING:
        return already(current)
    if verdict == "approve" and actor.principal == current.requester:
        raise ConflictError(
            f"You requested {current.id}, so you cannot approve it.",
            hint="Someone else with the approver role must approve it.",
        )
    identity.require_approver_role(actor, current.policy.approver_role, current.id)
    now = utcnow()
    needed = max(1, current.policy.approvers_required)
    approvals: set[str] = set()
    event: RequestDecided | RequestStale | None = None
    with ctx.store.session() as session:
        # One decision at a time per request: the vote, the count and the move are atomic,
        # so racing approvers never both move it, nor leave a quorum stuck in pending.
        repo.lock_request(session, request_id)
        record = repo.load_request(session, request_id)
        if record.status != RequestStatus.PENDING:
            state = "already"
        elif record.expires_at is not None and record.expires_at <= now:
            repo.transition(
                session, request_id, RequestStatus.PENDING, RequestStatus.EXPIRED, decided_at=now
            )
            event = RequestDecided(request=repo.load_request(session, request_id), verdict="expire")
            audit_log.record_event(session, event)
            state = "expired"
        elif (
            why := targets.stale_reason(record, request_rows.deployment_of(session, record))
        ) is not None:
            repo.transition(
                session,
                request_id,
                RequestStatus.PENDING,
                RequestStatus.STALE,
                decided_at=now,
                error=why,
            )
            event = RequestStale(
                request=repo.load_request(session, request_id),
                why=why,
                actor=actor.principal,
                surface=actor.surface,
            )
            audit_log.record_event(session, event)
            state = "stale"
        elif not repo.add_decision(
            session, request_id, actor.principal, actor.surface, verdict, reason, now
        ):
            state = "voted"
        else:
            record = repo.load_request(session, request_id)
            approvals = approvals_of(record)
            if verdict == "approve" and len(approvals) < needed:
                state = "partial"
            else:
                target = RequestStatus.REJECTED if verdict == "reject" else RequestStatus.APPROVED
                repo.transition(session, request_id, RequestStatus.PENDING, target, decided_at=now)
                record = repo.load_request(session, request_id)
                state = verdict
            event = RequestDecided(
                request=record,
                verdict="partial" if state == "partial" else verdict,
                reason=reason,
                actor=actor.principal,
                surface=actor.surface,
            )
            audit_log.record_event(session, event)
    if event is not None:
        ctx.emit(event)
    if state == "already":
        return already(record)
    if state == "voted":
        return DecisionOutcome(
            request=record,
            outcome="already_decided",
            message=f"You already voted on {request_id}; nothing changed.",
        )
    record = ctx.get_request(request_id)
    if state in ("expired", "stale"):
        return already(record)
    if state == "partial":
        return DecisionOutcome(
            request=record,
            outcome="recorded",
            message=f"Approval recorded for {request_id} ({len(approvals)} of {needed}).",
        )
    if state == "reject":
        return DecisionOutcome(
            request=record, outcome="rejected", message=f"{request_id} rejected."
        )
    record = execution.execute(ctx, request_id)
    outcome: Literal["recorded", "executed", "failed"] = (
        "executed"
        if record.status == RequestStatus.EXECUTED
        else "recorded"
        if record.status == RequestStatus.EXECUTING  # outcome being checked: not a failure
        else "failed"
    )
    return DecisionOutcome(
        request=record, outcome=outcome, message=execution.outcome_message(record)
    )


def withdraw(ctx: WorkflowContext, request_id: str, actor: Actor) -> WithdrawOutcome:
    """The requester takes back their own pending request (nobody else may)."""
    identity.check_module_access(ctx.settings, actor)
    current = ctx.get_request(request_id)
    if actor.principal != current.requester:
        raise PermissionDenied(
            f"Only {current.requester}, who requested {current.id}, can withdraw it.",
            hint="An approver can reject it instead.",
        )
    event: RequestWithdrawn | None = None
    with ctx.store.session() as session:
        if repo.transition(
            session,
            request_id,
            RequestStatus.PENDING,
            RequestStatus.WITHDRAWN,
            decided_at=utcnow(),
        ):
            event = RequestWithdrawn(
                request=repo.load_request(session, request_id),
                actor=actor.principal,
                surface=actor.surface,
            )
            audit_log.record_event(session, event)
    record = ctx.get_request(request_id)
    if event is None:
        return WithdrawOutcome(
            request=record, outcome="already_decided", message=already(record).message
        )
    ctx.emit(event)
    return WithdrawOutcome(
        request=record, outcome="withdrawn", message=f"{request_id} withdrawn; nothing will run."
    )


STUCK = (RequestStatus.APPROVED, RequestStatus.EXECUTING)


def resolve_request(
    ctx: WorkflowContext, request_id: str, actor: Actor, reason: str | None = None
) -> RequestRecord:
    """An admin ends a stuck (approved or executing) request as failed, whatever its executor
    is doing, so nothing waits on it; the reconciler imports what the provider made anyway."""
    identity.require(actor, "configure")
    current = ctx.get_request(request_id)
    if current.status not in STUCK:
        raise ConflictError(
            f"{request_id} is {current.status.value}, not stuck; nothing to resolve.",
            hint="Only approved or executing requests can be resolved "
            "(reject or withdraw a pending one).",
        )
    error = (
        f"Resolved by {actor.principal}"
        + (f": {reason}" if reason else "")
        + (f" (it was {current.status.value}; check `list` for what Model Studio holds).")
    )
    event: ExecutionFailed | None = None
    with ctx.store.session() as session:
        if repo.transition(
            session, request_id, STUCK, RequestStatus.FAILED, error=error, executed_at=utcnow()
        ):
            event = ExecutionFailed(
                request=repo.load_request(session, request_id),
                error=error,
                actor=actor.principal,
                surface=actor.surface,
            )
            audit_log.record_event(session, event)
    if event is None:
        raise ConflictError(f"{request_id} finished while it was being resolved; nothing changed.")
    ctx.emit(event)
    return ctx.get_request(request_id)


def already(record: RequestRecord) -> DecisionOutcome:
    """The answer to a vote on a request that is no longer pending."""
    if record.status == RequestStatus.EXPIRED:
        message = (
            f"{record.id} expired before enough approvals came in; nothing changed. "
            "Ask for it again with a new request."
        )
    elif record.status == RequestStatus.STALE:
        message = (
            f"{record.id} can no longer be approved: {record.error}. Nothing changed; "
            "ask again for the capacity you want now."
        )
    elif record.status == RequestStatus.WITHDRAWN:
        message = f"{record.id} was withdrawn by {record.requester}; nothing changed."
    else:
        by = ", ".join(d.principal for d in record.decisions) or "policy"
        message = f"{record.id} was already {record.status.value} (by {by}); nothing changed."
    return DecisionOutcome(request=record, outcome="already_decided", message=message)


def expire_due(ctx: WorkflowContext) -> None:
    """Move pending requests past their TTL to expired, and those whose target changed or
    vanished to stale (each once, announced by an event)."""
    now = utcnow()
    expired: list[RequestDecided | RequestStale] = []
    with ctx.store.session() as session:
        for record in request_rows.pending_on_deployments(session):
            why = targets.stale_reason(record, request_rows.deployment_of(session, record))
            if why is not None and repo.transition(
                session,
                record.id,
                RequestStatus.PENDING,
                RequestStatus.STALE,
                decided_at=now,
                error=why,
            ):
                stale = RequestStale(request=repo.load_request(session, record.id), why=why)
                audit_log.record_event(session, stale)
                expired.append(stale)
        for request_id in request_rows.pending_past(session, now):
            if repo.transition(
                session, request_id, RequestStatus.PENDING, RequestStatus.EXPIRED, decided_at=now
            ):
                gone = RequestDecided(
                    request=repo.load_request(session, request_id), verdict="expire"
                )
                audit_log.record_event(session, gone)
                expired.append(gone)
    for event in expired:
        ctx.emit(event)
