"""Execution: claim an approved request once, carry it out at the provider, mirror it in the store.

Exactly once: only the claimer (a compare-and-set from approved to executing) runs it, a create
carries a suffix derived from the request id (its ModelCode is stored on the request before the
call, so the reconciler knows it as ours), and only the worker that records the outcome announces
it. A create whose outcome is unknown, or a capacity operation still running, keeps the request
executing (`refs["outcome"]`); the reconciler settles it later (`settle`), never by a new create.
"""

from __future__ import annotations

import logging
from typing import Any

from modeldeck.domain import DeploymentRecord, DeploySpec, RequestRecord, RequestStatus
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
ADOPTED_MESSAGE = "created; the first answer was lost and it was found and adopted"


class Unsettled(Exception):
    """The provider has not said how the request ended: keep it executing, settle it later."""

    def __init__(self, message: str, **refs: str) -> None:
        super().__init__(message)
        self.message = message
        self.refs = refs


class Refused(ModeldeckError):
    """The request ends failed with this text (e.g. a capacity mismatch, already recorded)."""


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
    try:
        detail = apply(ctx, record)
    except Unsettled as exc:
        keep_executing(ctx, record, exc)
    except ModeldeckError as exc:
        finish(ctx, request_id, error=str(exc))
    except Exception as exc:
        # Any failure ends the request failed with a clear error, so no request stays stuck
        # executing and blocks the reconciler; an unexpected one is logged in full, but only
        # its kind is stored (its text may carry anything).
        log.exception("unexpected error carrying out %s", request_id)
        error = (
            f"Unexpected error ({type(exc).__name__}) while carrying out {request_id}; "
            "nothing more was recorded. Check the deployment with `list`, and the server "
            "log for details."
        )
        finish(ctx, request_id, error=error)
    else:
        finish(ctx, request_id, detail=detail)
    return ctx.get_request(request_id)


def finish(
    ctx: WorkflowContext,
    request_id: str,
    *,
    error: str | None = None,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Move an executing request to executed (or failed with `error`), audited and announced once.

    Only the executor that records the outcome audits it (a recovered claim may race the
    original executor; the provider deduplicates the work itself).
    """
    event: ExecutionSucceeded | ExecutionFailed | None = None
    with ctx.store.session() as session:
        if error is not None:
            if repo.transition(
                session,
                request_id,
                RequestStatus.EXECUTING,
                RequestStatus.FAILED,
                error=error,
                executed_at=utcnow(),
            ):
                event = ExecutionFailed(
                    request=repo.load_request(session, request_id), error=error, actor=ctx.worker_id
                )
        elif repo.transition(
            session,
            request_id,
            RequestStatus.EXECUTING,
            RequestStatus.EXECUTED,
            executed_at=utcnow(),
            error=None,
            **(detail or {}),
        ):
            event = ExecutionSucceeded(
                request=repo.load_request(session, request_id), actor=ctx.worker_id
            )
        if event is not None:
            audit_log.record_event(session, event)
    if event is not None:
        ctx.emit(event)
    return event is not None


def keep_executing(ctx: WorkflowContext, record: RequestRecord, why: Unsettled) -> None:
    """Leave the request executing with what the reconciler needs to settle it."""
    with ctx.store.session() as session:
        current = repo.load_request(session, record.id)
        repo.transition(
            session,
            record.id,
            RequestStatus.EXECUTING,
            RequestStatus.EXECUTING,
            error=why.message,
            refs={**current.refs, **why.refs},
        )


def _set_refs(ctx: WorkflowContext, request_id: str, **refs: str) -> dict[str, str]:
    with ctx.store.session() as session:
        current = repo.load_request(session, request_id)
        merged = {**current.refs, **refs}
        repo.transition(
            session, request_id, RequestStatus.EXECUTING, RequestStatus.EXECUTING, refs=merged
        )
    return merged


def expected_code(record: RequestRecord) -> str:
    """The ModelCode a deploy request creates: its suffix, else one derived from its id."""
    from modeldeck.provider import derive_suffix

    assert record.deploy is not None
    spec = record.deploy
    return f"{spec.model}-{spec.suffix or derive_suffix(record.id)}"


def check_create(ctx: WorkflowContext, spec: DeploySpec) -> None:
    """Refuse at request time what Model Studio's create would refuse (e.g. a monthly MU package,
    bought in the console unless `[provider] mu_prepay_via_api`), before anyone approves it."""
    from modeldeck.errors import ValidationFailed
    from modeldeck.provider import build_create_body

    if spec.thinking_output_tpm is not None and ctx.settings.provider.api_generation != "legacy":
        raise ValidationFailed(
            f"Model Studio's PTU reservations take no separate thinking output TPM for "
            f"{spec.model} (thinking output is served within out=; Alibaba's CLI refuses it too).",
            hint="Leave thinking_out= out of the deploy, or set [provider] api_generation = "
            '"legacy" for an account on the older API.',
        )
    build_create_body(spec, mu_prepay_via_api=ctx.settings.provider.mu_prepay_via_api)


def outcome_message(record: RequestRecord) -> str:
    """What an approver is told once their approval ran the request (the truth, never a guess)."""
    if record.status == RequestStatus.EXECUTED:
        if record.refs.get("adopted") == "true":
            return f"{record.id} approved and executed: {ADOPTED_MESSAGE}."
        return f"{record.id} approved and executed."
    if record.status == RequestStatus.EXECUTING:
        return (
            f"{record.id} approved; Model Studio has not confirmed the outcome yet and it is being "
            f"checked (nothing will be bought twice): {record.error}"
        )
    return f"{record.id} approved but execution failed: {record.error}"


def apply(ctx: WorkflowContext, record: RequestRecord) -> dict[str, Any]:
    """Carry out an approved request at the provider and mirror the result in the store."""
    if record.deploy is not None:
        return _deploy(ctx, record)
    dep = ctx.get_deployment(record.deployment_id or "")
    why = targets.refusal(record, dep)
    if why is not None:
        raise ConflictError(
            f"{record.id} was not carried out: {why}.",
            hint="Nothing changed at Model Studio; ask again for the capacity you want now.",
        )
    code = dep.deployed_model or dep.id
    if record.schedule is not None:  # in force from now on: the reconciler runs its changes
        from modeldeck.workflow import schedule_activation

        return {"refs": {**record.refs, "schedule": schedule_activation.activate(ctx, record, dep)}}
    if record.scale is not None:
        return _scale(ctx, record, dep, code)
    if record.limits is not None:
        info = ctx.provider.update_limits(
            code, rpm_limit=record.limits.rpm_limit, tpm_limit=record.limits.tpm_limit
        )
        _mirror(
            ctx, dep.id, info, rpm_limit=record.limits.rpm_limit, tpm_limit=record.limits.tpm_limit
        )
    elif record.renew is not None:
        _renew(ctx, record, dep, code)
    elif record.kind == "unpublish":
        info = ctx.provider.delete_deployment(code, idempotency_key=record.id)
        _mirror(ctx, dep.id, info)
    return {}


def _deploy(ctx: WorkflowContext, record: RequestRecord) -> dict[str, Any]:
    from modeldeck.provider import CapacityMismatch as ProviderMismatch
    from modeldeck.provider import CreateOutcomeUnknown, build_create_body

    spec = record.deploy
    assert spec is not None
    code = expected_code(record)
    # Stored before the call: whatever happens to the answer, the code is known as ours.
    _set_refs(ctx, record.id, deployed_model=code)
    body = build_create_body(spec, mu_prepay_via_api=ctx.settings.provider.mu_prepay_via_api)
    try:
        info = ctx.provider.create_deployment(body, idempotency_key=record.id)
    except CreateOutcomeUnknown as exc:
        raise Unsettled(f"outcome unknown: {exc}", outcome="unknown") from exc
    except ProviderMismatch as exc:
        if exc.deployment is None:
            raise
        dep_id = record_created(ctx, record, exc.deployment)
        raise Refused(_mismatch(ctx, record, dep_id, exc.expected, exc.actual)) from exc
    dep_id = record_created(ctx, record, info)
    return {"deployment_id": dep_id, **_adopted_refs(ctx, record.id, info.adopted)}


def _adopted_refs(ctx: WorkflowContext, request_id: str, adopted: bool) -> dict[str, Any]:
    if not adopted:
        return {}
    return {"refs": {**ctx.get_request(request_id).refs, "adopted": "true"}}


def record_created(ctx: WorkflowContext, record: RequestRecord, info: Any) -> str:
    """Store the deployment a deploy request created (or adopted), its order, and announce it."""
    spec = record.deploy
    assert spec is not None
    now = utcnow()
    with ctx.store.session() as session:
        dep_id = deployment_rows.record_executed_deploy(session, info, spec, record.id, now)
    if spec.billing in ("upfront", "monthly") and record.estimate is not None:
        orders.record_order(ctx, dep_id, spec, record.estimate, now)
    ctx.emit(
        DeploymentStatusChanged(
            deployment=ctx.get_deployment(dep_id), old_status=None, new_status=str(info.status)
        )
    )
    return dep_id


def _mismatch(
    ctx: WorkflowContext,
    record: RequestRecord,
    dep_id: str,
    asked: dict[str, Any],
    actual: dict[str, Any],
) -> str:
    """Record the real capacity (it is what bills), raise the alarm, and say what happened."""
    # The client names MU capacity `capacity`; the store and the user call it `units`.
    asked = {("units" if k == "capacity" else k): v for k, v in asked.items()}
    actual = {("units" if k == "capacity" else k): v for k, v in actual.items()}
    real = {k: v for k, v in actual.items() if k in ("units", "input_tpm", "output_tpm")}
    event = CapacityMismatch(
        deployment_id=dep_id, request_id=record.id, asked=dict(asked), provider=dict(actual)
    )
    with ctx.store.session() as session:
        deployment_rows.set_capacity(session, dep_id, real, utcnow())
        audit_log.record_event(session, event)
    ctx.emit(event)
    return f"capacity mismatch: asked {_fmt(asked)}, Model Studio reports {_fmt(actual)}"


def _fmt(capacity: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in capacity.items() if v is not None) or "nothing"


def _scale(
    ctx: WorkflowContext, record: RequestRecord, dep: DeploymentRecord, code: str
) -> dict[str, Any]:
    from modeldeck.provider import CapacityMismatch as ProviderMismatch
    from modeldeck.provider import OperationPending

    # The target was filled completely at request time: run exactly it, never a mix with
    # whatever the deployment holds now (older requests without one fall back to that).
    s = record.target or record.scale
    assert s is not None
    asked: dict[str, int | None]
    try:
        if dep.plan == "mu":
            asked = {"units": s.units}
            info = ctx.provider.scale_deployment(code, capacity=s.units, idempotency_key=record.id)
        else:
            cap = {
                "input_tpm": s.input_tpm if s.input_tpm is not None else dep.input_tpm,
                "output_tpm": s.output_tpm if s.output_tpm is not None else dep.output_tpm,
            }
            asked = dict(cap)
            if s.thinking_output_tpm is not None:
                cap["thinking_output_tpm"] = s.thinking_output_tpm
            info = ctx.provider.scale_deployment(code, ptu_capacity=cap, idempotency_key=record.id)
    except OperationPending as exc:
        raise Unsettled(
            f"capacity change still running at Model Studio (operation {exc.operation_id})",
            outcome="pending",
            operation=exc.operation_id,
            deployed_model=code,
        ) from exc
    except ProviderMismatch as exc:
        raise Refused(_mismatch(ctx, record, dep.id, exc.expected, exc.actual)) from exc
    answered = deployment_rows.capacity_of(info)
    settled = str(info.status) == "RUNNING"  # while UPDATING the answer may show the old one
    if settled and any(v is not None for v in answered.values()) and _differs(asked, answered):
        raise Refused(_mismatch(ctx, record, dep.id, asked, answered))
    _mirror(ctx, dep.id, info, **asked)
    if dep.billing in orders.PREPAID and record.estimate is not None:
        orders.reprice_order(ctx, dep.id, record.estimate, record.id)
    return {}


def _renew(ctx: WorkflowContext, record: RequestRecord, dep: DeploymentRecord, code: str) -> None:
    """Renew the prepaid instance at Model Studio (the request id is the idempotency key), wait
    for the operation to succeed, then store the order it bought."""
    from decimal import Decimal

    renew = record.renew
    assert renew is not None
    current = orders.current_order(ctx, dep.id)
    auto = renew.auto_renew if renew.auto_renew is not None else False
    operation = ctx.provider.renew(code, renew.days, auto, idempotency_key=record.id)
    if not operation.succeeded:
        ctx.provider.wait_for_operation(code, operation.operation_id)
    assert record.estimate is not None  # every renewal is priced when it is requested
    amount = Decimal(record.estimate.total)
    if current is not None:
        orders.record_renewal(ctx, record.id, dep.id, renew.days, amount, utcnow())


def _differs(asked: dict[str, int | None], answered: dict[str, int | None]) -> bool:
    return any(v is not None and answered.get(k) not in (None, v) for k, v in asked.items())


def settle(ctx: WorkflowContext, request_id: str) -> bool:
    """Settle an executing request the provider had not answered for (the reconciler's step).

    A create of unknown outcome is looked up by its stored ModelCode (found: executed, adopted;
    proven absent: failed); a capacity operation is polled (SUCCEEDED: executed; FAILED:
    failed). The provider still not answering leaves it for the next pass. True when settled.
    """
    from modeldeck.errors import ModeldeckRuntimeError
    from modeldeck.provider import OperationFailed, OperationPending

    record = ctx.get_request(request_id)
    outcome = record.refs.get("outcome")
    code = record.refs.get("deployed_model", "")
    if record.status != RequestStatus.EXECUTING or outcome not in ("unknown", "pending"):
        return False
    try:
        if outcome == "unknown":
            found = ctx.provider.find_deployment(code)
            if found is None:
                return finish(
                    ctx,
                    request_id,
                    error=f"Model Studio has no deployment {code}: nothing was created.",
                )
            found.adopted = True
            dep_id = record_created(ctx, record, found)
            return finish(
                ctx,
                request_id,
                detail={"deployment_id": dep_id, **_adopted_refs(ctx, request_id, True)},
            )
        operation = record.refs.get("operation", "")
        try:
            ctx.provider.wait_for_operation(code, operation, timeout=1.0)
        except OperationFailed as exc:
            return finish(ctx, request_id, error=str(exc))
        dep = ctx.get_deployment(record.deployment_id or "")
        info = ctx.provider.get_deployment(code)
        capacity = deployment_rows.capacity_of(info)
        _mirror(ctx, dep.id, info, **capacity)
        return finish(ctx, request_id, detail={})
    except (OperationPending, ModeldeckRuntimeError):
        return False  # still running, or Model Studio still unreachable: next pass


def _mirror(ctx: WorkflowContext, dep_id: str, info: Any, **capacity: int | None) -> None:
    with ctx.store.session() as session:
        old = deployment_rows.apply_change(session, dep_id, info, utcnow(), **capacity)
    if old is not None and old != str(info.status):
        ctx.emit(
            DeploymentStatusChanged(
                deployment=ctx.get_deployment(dep_id), old_status=old, new_status=str(info.status)
            )
        )
