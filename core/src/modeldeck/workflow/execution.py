"""Execution: claim an approved request once, carry it out at the provider, mirror it in the store.

Exactly once: only the claimer (a compare-and-set from approved to executing) runs it, the provider
deduplicates creates by the request id, and only the worker that records the outcome announces it.
"""

from __future__ import annotations

import logging
from typing import Any

from modeldeck.domain import RequestRecord, RequestStatus
from modeldeck.errors import ConflictError, ModeldeckError
from modeldeck.events import (
    CapacityMismatch,
    DeploymentStatusChanged,
    ExecutionFailed,
    ExecutionStarted,
    ExecutionSucceeded,
)
from modeldeck.store import audit_log, repo
from modeldeck.store import deployments as deployment_rows
from modeldeck.timeutil import utcnow
from modeldeck.workflow import orders, targets
from modeldeck.workflow.context import WorkflowContext

log = logging.getLogger(__name__)


def execute(ctx: WorkflowContext, request_id: str) -> RequestRecord:
    """Claim an approved request (compare-and-set) and carry it out; a no-op if claimed."""
    with ctx.store.session() as session:
        claimed = repo.transition(
            session,
            request_id,
            RequestStatus.APPROVED,
            RequestStatus.EXECUTING,
            claimed_by=ctx.worker_id,
            claimed_at=utcnow(),
        )
    if not claimed:
        return ctx.get_request(request_id)
    ctx.emit(ExecutionStarted(request_id=request_id, worker=ctx.worker_id, actor=ctx.worker_id))
    return run_claimed(ctx, request_id)


def run_claimed(ctx: WorkflowContext, request_id: str) -> RequestRecord:
    """Carry out a request this process holds the claim of, and record the outcome once."""
    record = ctx.get_request(request_id)
    event: ExecutionSucceeded | ExecutionFailed | None = None
    try:
        detail = apply(ctx, record)
    except Exception as exc:
        # Any failure ends the request failed with a clear error, so no request stays stuck
        # executing and blocks the reconciler; an unexpected one is logged in full, but only
        # its kind is stored (its text may carry anything).
        if isinstance(exc, ModeldeckError):
            error = str(exc)
        else:
            log.exception("unexpected error carrying out %s", request_id)
            error = (
                f"Unexpected error ({type(exc).__name__}) while carrying out {request_id}; "
                "nothing more was recorded. Check the deployment with `list`, and the server "
                "log for details."
            )
        with ctx.store.session() as session:
            if repo.transition(
                session,
                request_id,
                RequestStatus.EXECUTING,
                RequestStatus.FAILED,
                error=error,
                executed_at=utcnow(),
            ):
                event = ExecutionFailed(
                    request=repo.load_request(session, request_id),
                    error=error,
                    actor=ctx.worker_id,
                )
                audit_log.record_event(session, event)
    else:
        # Only the executor that records the outcome audits it (a recovered claim may race
        # the original executor; the provider deduplicates the work itself).
        with ctx.store.session() as session:
            if repo.transition(
                session,
                request_id,
                RequestStatus.EXECUTING,
                RequestStatus.EXECUTED,
                executed_at=utcnow(),
                **detail,
            ):
                event = ExecutionSucceeded(
                    request=repo.load_request(session, request_id), actor=ctx.worker_id
                )
                audit_log.record_event(session, event)
    if event is not None:
        ctx.emit(event)
    return ctx.get_request(request_id)


def apply(ctx: WorkflowContext, record: RequestRecord) -> dict[str, Any]:
    """Carry out an approved request at the provider and mirror the result in the store."""
    from modeldeck.provider import build_create_body

    now = utcnow()
    if record.deploy is not None:
        spec = record.deploy
        info = ctx.provider.create_deployment(build_create_body(spec), idempotency_key=record.id)
        with ctx.store.session() as session:
            dep_id = deployment_rows.record_executed_deploy(session, info, spec, record.id, now)
        if spec.billing in ("upfront", "monthly") and record.estimate is not None:
            orders.record_order(ctx, dep_id, spec, record.estimate, now)
        ctx.emit(
            DeploymentStatusChanged(
                deployment=ctx.get_deployment(dep_id), old_status=None, new_status=str(info.status)
            )
        )
        return {"deployment_id": dep_id}
    dep = ctx.get_deployment(record.deployment_id or "")
    why = targets.refusal(record, dep)
    if why is not None:
        raise ConflictError(
            f"{record.id} was not carried out: {why}.",
            hint="Nothing changed at Model Studio; ask again for the capacity you want now.",
        )
    code = dep.deployed_model or dep.id
    if record.scale is not None:
        # The target was filled completely at request time: run exactly it, never a mix with
        # whatever the deployment holds now (older requests without one fall back to that).
        s = record.target or record.scale
        if dep.plan == "mu":
            info = ctx.provider.scale_deployment(code, capacity=s.units)
            asked: dict[str, int | None] = {"units": s.units}
            mirrored = dict(asked)
        else:
            cap = {
                "input_tpm": s.input_tpm if s.input_tpm is not None else dep.input_tpm,
                "output_tpm": s.output_tpm if s.output_tpm is not None else dep.output_tpm,
            }
            asked = dict(cap)
            mirrored = dict(cap)
            if s.thinking_output_tpm is not None:
                cap["thinking_output_tpm"] = s.thinking_output_tpm
            info = ctx.provider.scale_deployment(code, ptu_capacity=cap)
        _mirror(ctx, dep.id, info, **mirrored)
        if dep.billing in orders.PREPAID and record.estimate is not None:
            orders.reprice_order(ctx, dep.id, record.estimate, record.id)
        answered = deployment_rows.capacity_of(info)
        settled = str(info.status) == "RUNNING"
        if settled and any(v is not None for v in answered.values()) and answered != asked:
            ctx.emit(
                CapacityMismatch(
                    deployment_id=dep.id, request_id=record.id, asked=asked, provider=answered
                )
            )
    elif record.limits is not None:
        info = ctx.provider.update_limits(
            code, rpm_limit=record.limits.rpm_limit, tpm_limit=record.limits.tpm_limit
        )
        _mirror(
            ctx, dep.id, info, rpm_limit=record.limits.rpm_limit, tpm_limit=record.limits.tpm_limit
        )
    elif record.kind == "unpublish":
        info = ctx.provider.delete_deployment(code)
        _mirror(ctx, dep.id, info)
    return {}


def _mirror(ctx: WorkflowContext, dep_id: str, info: Any, **capacity: int | None) -> None:
    with ctx.store.session() as session:
        old = deployment_rows.apply_change(session, dep_id, info, utcnow(), **capacity)
    if old is not None and old != str(info.status):
        ctx.emit(
            DeploymentStatusChanged(
                deployment=ctx.get_deployment(dep_id), old_status=old, new_status=str(info.status)
            )
        )
