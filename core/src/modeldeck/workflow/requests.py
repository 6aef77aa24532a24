"""Requests: validate what is asked, price it, let the policy decide its approval, store it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from modeldeck import identity
from modeldeck.domain import (
    Actor,
    DeploySpec,
    Estimate,
    LimitsSpec,
    PolicyDecision,
    RequestKind,
    RequestRecord,
    RequestStatus,
    ScaleSpec,
)
from modeldeck.durations import parse_duration
from modeldeck.errors import ConflictError, UserError
from modeldeck.events import RequestCreated, RequestDecided
from modeldeck.store import audit_log, repo
from modeldeck.timeutil import utcnow
from modeldeck.workflow import budget_guard, execution, policy
from modeldeck.workflow.context import WorkflowContext

FINAL_STATUSES = {"DELETED"}


def request_deploy(
    ctx: WorkflowContext, spec: DeploySpec, actor: Actor, reason: str | None
) -> RequestRecord:
    from modeldeck.billing import validate_spec

    identity.require(actor, "request")
    identity.check_module_access(ctx.settings, actor)
    spec = validate_spec(spec, ctx.catalog, ctx.rules)
    identity.check_model_privilege(ctx.settings, spec.model)
    check_redeploy(ctx, spec)
    return create(ctx, "deploy", actor, reason, deploy=spec, estimate=ctx.estimate(spec))


def check_redeploy(ctx: WorkflowContext, spec: DeploySpec) -> None:
    """A deploy naming a live deployment may not change its billing method (seed rule)."""
    from modeldeck.billing import check_billing_change

    code = f"{spec.model}-{spec.suffix}" if spec.suffix else None
    for dep in ctx.list_deployments():
        same = (spec.name and dep.name == spec.name) or (code and dep.deployed_model == code)
        if same and dep.model == spec.model:
            check_billing_change(dep, spec)


def request_scale(
    ctx: WorkflowContext,
    spec: ScaleSpec,
    actor: Actor,
    reason: str | None,
    *,
    hours: Decimal | None = None,
    days: int | None = None,
) -> RequestRecord:
    """Store a scale request; `hours`/`days` price it over that long (`plan … apply`)."""
    identity.require(actor, "request")
    identity.check_module_access(ctx.settings, actor)
    dep = ctx.get_deployment(spec.deployment)
    if dep.plan == "mu" and spec.units is None:
        raise UserError(
            f"{dep.id} is a Model Unit deployment: scale it with units=<n>.",
            hint="Example: scale " + (dep.deployed_model or dep.id) + " units=2",
        )
    if dep.plan == "ptu" and spec.input_tpm is None and spec.output_tpm is None:
        raise UserError(
            f"{dep.id} is a Provisioned Throughput deployment: scale it with in=<TPM> out=<TPM>.",
            hint="Example: scale " + (dep.deployed_model or dep.id) + " in=20000 out=2000",
        )
    target = DeploySpec(
        model=dep.model,
        plan=dep.plan,
        mode=dep.mode,
        billing=dep.billing,
        units=spec.units if dep.plan == "mu" else None,
        input_tpm=(spec.input_tpm or dep.input_tpm) if dep.plan == "ptu" else None,
        output_tpm=(spec.output_tpm if spec.output_tpm is not None else dep.output_tpm)
        if dep.plan == "ptu"
        else None,
        hours=hours,
        days=days,
    )
    est = ctx.estimate(target)
    spec = spec.model_copy(update={"deployment": dep.id})
    return create(ctx, "scale", actor, reason, scale=spec, deployment_id=dep.id, estimate=est)


def request_limits(
    ctx: WorkflowContext, spec: LimitsSpec, actor: Actor, reason: str | None
) -> RequestRecord:
    identity.require(actor, "request")
    identity.check_module_access(ctx.settings, actor)
    dep = ctx.get_deployment(spec.deployment)
    spec = spec.model_copy(update={"deployment": dep.id})
    return create(ctx, "limits", actor, reason, limits=spec, deployment_id=dep.id)


def request_unpublish(
    ctx: WorkflowContext, deployment: str, actor: Actor, reason: str | None
) -> RequestRecord:
    identity.require(actor, "request")
    identity.check_module_access(ctx.settings, actor)
    dep = ctx.get_deployment(deployment)
    if dep.status in FINAL_STATUSES:
        raise ConflictError(f"{dep.id} is already unpublished.")
    return create(ctx, "unpublish", actor, reason, deployment_id=dep.id)


def create(
    ctx: WorkflowContext,
    kind: RequestKind,
    actor: Actor,
    reason: str | None,
    *,
    estimate: Estimate | None = None,
    **fields: Any,
) -> RequestRecord:
    """Store a request with the policy's decision; auto-approved ones execute at once."""
    now = utcnow()
    draft = RequestRecord(
        id=repo.new_id("req"),
        kind=kind,
        status=RequestStatus.PENDING,
        requester=actor.principal,
        surface=actor.surface,
        reason=reason,
        estimate=estimate,
        policy=PolicyDecision(auto_approve=False, rule="pending policy"),
        created_at=now,
        expires_at=now + timedelta(seconds=parse_duration(ctx.settings.policy.request_ttl)),
        **fields,
    )
    decision = budget_guard.guard(ctx, draft, policy.evaluate(draft, estimate, ctx.settings), now)
    record = draft.model_copy(update={"policy": decision})
    created = RequestCreated(request=record, actor=actor.principal, surface=actor.surface)
    with ctx.store.session() as session:
        repo.insert_request(session, record)
        audit_log.record_event(session, created)
    ctx.emit(created)
    if decision.auto_approve:
        with ctx.store.session() as session:
            repo.transition(
                session,
                record.id,
                RequestStatus.PENDING,
                RequestStatus.APPROVED,
                decided_at=utcnow(),
            )
            approved = RequestDecided(
                request=repo.load_request(session, record.id),
                verdict="auto_approve",
                rule=decision.rule,
                actor="policy",
            )
            audit_log.record_event(session, approved)
        ctx.emit(approved)
        execution.execute(ctx, record.id)
    return ctx.get_request(record.id)
