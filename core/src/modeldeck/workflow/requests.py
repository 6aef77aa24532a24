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
from modeldeck.errors import ConflictError, UserError, ValidationFailed
from modeldeck.events import RequestCreated, RequestDecided
from modeldeck.store import audit_log, repo
from modeldeck.store import requests as request_rows
from modeldeck.timeutil import utcnow
from modeldeck.workflow import budget_guard, execution, orders, policy, prepaid, targets
from modeldeck.workflow.context import WorkflowContext

FINAL_STATUSES = {"DELETED"}


def request_deploy(
    ctx: WorkflowContext,
    spec: DeploySpec,
    actor: Actor,
    reason: str | None,
    idempotency_key: str | None = None,
) -> RequestRecord:
    if (first := admit(ctx, actor, idempotency_key)) is not None:
        return first
    from modeldeck.billing import validate_spec

    spec = validate_spec(spec, ctx.catalog, ctx.rules)
    identity.check_model_privilege(ctx.settings, spec.model)
    check_redeploy(ctx, spec)
    execution.check_create(ctx, spec)
    return create(
        ctx,
        "deploy",
        actor,
        reason,
        deploy=spec,
        estimate=ctx.estimate(spec),
        idempotency_key=idempotency_key,
    )


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
    idempotency_key: str | None = None,
    *,
    hours: Decimal | None = None,
    days: int | None = None,
) -> RequestRecord:
    """Store a scale request; `hours`/`days` price it over that long (`plan … apply`)."""
    if (first := admit(ctx, actor, idempotency_key)) is not None:
        return first
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
    spec, target = targets.scale_target(dep, spec)
    if hours is not None or days is not None:  # priced over that long (`plan ... apply`)
        target = target.model_copy(update={"hours": hours, "days": days})
    # A prepaid deployment's scale is priced as its order at the new capacity over the order's
    # term: the figure the prepaid policy weighs and the order's amount once it runs.
    target = orders.priced_over_order(ctx, dep.id, target)
    est = ctx.estimate(target)
    return create(
        ctx,
        "scale",
        actor,
        reason,
        scale=spec,
        deployment_id=dep.id,
        estimate=est,
        target=target,
        basis=targets.basis_of(dep),
        idempotency_key=idempotency_key,
    )


def request_limits(
    ctx: WorkflowContext,
    spec: LimitsSpec,
    actor: Actor,
    reason: str | None,
    idempotency_key: str | None = None,
) -> RequestRecord:
    if (first := admit(ctx, actor, idempotency_key)) is not None:
        return first
    from modeldeck.billing.validate import check_bounds

    check_bounds(spec, ctx.rules)
    given = [v for v in (spec.rpm_limit, spec.tpm_limit) if v is not None]
    if not given or min(given) <= 0:
        raise ValidationFailed(
            "A limits request needs rpm_limit and/or tpm_limit, each a positive whole number.",
            hint="Example: limits <deployment> rpm=60 tpm=100000",
        )
    dep = ctx.get_deployment(spec.deployment)
    spec = spec.model_copy(update={"deployment": dep.id})
    return create(
        ctx,
        "limits",
        actor,
        reason,
        limits=spec,
        deployment_id=dep.id,
        basis=targets.basis_of(dep),
        idempotency_key=idempotency_key,
    )


def request_unpublish(
    ctx: WorkflowContext,
    deployment: str,
    actor: Actor,
    reason: str | None,
    idempotency_key: str | None = None,
) -> RequestRecord:
    if (first := admit(ctx, actor, idempotency_key)) is not None:
        return first
    dep = ctx.get_deployment(deployment)
    if dep.status in FINAL_STATUSES:
        raise ConflictError(f"{dep.id} is already unpublished.")
    prepaid.refuse_unpublish_of_live_prepaid(ctx, dep)
    return create(
        ctx,
        "unpublish",
        actor,
        reason,
        deployment_id=dep.id,
        basis=targets.basis_of(dep),
        idempotency_key=idempotency_key,
    )


MAX_KEY = 200


def admit(ctx: WorkflowContext, actor: Actor, key: str | None) -> RequestRecord | None:
    """Every request's first step: a replayed submission answers with its first request;
    otherwise the actor must hold the `request` role and Model Studio's module access."""
    first = replayed(ctx, actor, key)
    if first is None:
        identity.require(actor, "request")
        identity.check_module_access(ctx.settings, actor)
    return first


def replayed(ctx: WorkflowContext, actor: Actor, key: str | None) -> RequestRecord | None:
    """The request this requester already submitted with `key` (a replay answers with it)."""
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationFailed(
            f"The idempotency key must be 1 to {MAX_KEY} printable characters.",
            hint="Send one id per submission, e.g. a UUID, in the Idempotency-Key header.",
        )
    with ctx.store.session() as session:
        return repo.by_idempotency_key(session, actor.principal, key)


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
    with ctx.store.session() as session:
        recent = request_rows.created_since(
            session, policy.window_start(ctx.settings, now), policy.SPENDING
        )
    effects, unknown = budget_guard.card_effects(ctx, draft, now)
    decision = budget_guard.guard(
        ctx, draft, policy.evaluate(draft, estimate, ctx.settings, recent), now, effects
    )
    first: RequestRecord | None = None
    with ctx.store.session() as session:
        if decision.auto_approve and policy.has_window_budget(ctx.settings):
            # Check the window budgets again under the store's lock and insert in the same
            # transaction: two replicas auto-approving at once cannot both spend the same room.
            repo.lock_auto_approve_budgets(session)
            recent = request_rows.created_since(
                session, policy.window_start(ctx.settings, now), policy.SPENDING
            )
            decision = policy.within_budgets(decision, draft, estimate, ctx.settings, recent)
        record = draft.model_copy(
            update={"policy": decision, "budget_effect": effects, "budget_effect_unknown": unknown}
        )
        created = RequestCreated(request=record, actor=actor.principal, surface=actor.surface)
        if repo.insert_request_once(session, record):
            audit_log.record_event(session, created)
        else:  # a replay of the same submission won the race: answer with its request
            first = repo.by_idempotency_key(session, actor.principal, record.idempotency_key or "")
            if first is None:
                raise ConflictError(f"{record.id} could not be stored; nothing was requested.")
    if first is not None:
        return first
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
