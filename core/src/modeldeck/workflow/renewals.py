"""Renewals: `renew <deployment> days=N [auto_renew=on|off]`, a money-changing request like any
other. Priced as N days of the current capacity's daily price, approved under the prepaid policy
(upfront orders need two approvers), executed with `provider.renew`, stored as a new order."""

from __future__ import annotations

from modeldeck.domain import Actor, DeploySpec, RenewSpec, RequestRecord
from modeldeck.errors import UserError
from modeldeck.timeutil import utcnow
from modeldeck.workflow import orders, requests
from modeldeck.workflow.context import WorkflowContext


def request_renew(
    ctx: WorkflowContext,
    spec: RenewSpec,
    actor: Actor,
    reason: str | None,
    idempotency_key: str | None = None,
) -> RequestRecord:
    """Validate and price a renewal, then store it for approval (like any request)."""
    if (first := requests.admit(ctx, actor, idempotency_key)) is not None:
        return first  # a replayed submission
    dep = ctx.get_deployment(spec.deployment)
    name = dep.deployed_model or dep.id
    order = orders.current_order(ctx, dep.id)
    if dep.plan != "ptu" or order is None or order.kind != "ptu_daily":
        raise UserError(
            f"{name} has no prepaid (upfront) PTU order to renew: only upfront PTU orders are "
            "renewed through Model Studio's API.",
            hint="Hourly deployments run until unpublished; a monthly MU package is renewed in "
            "the Model Studio console.",
        )
    if order.expires_at is not None and order.expires_at <= utcnow():
        raise UserError(
            f"{name}'s prepaid order expired; Model Studio renews a suspended order in the "
            "console only.",
            hint="Renew it in the Alibaba Cloud console, or deploy again.",
        )
    target = DeploySpec(
        model=dep.model,
        plan="ptu",
        mode=dep.mode,
        billing="upfront",
        days=spec.days,
        input_tpm=dep.input_tpm,
        output_tpm=dep.output_tpm,
    )
    estimate = ctx.estimate(target)
    spec = spec.model_copy(update={"deployment": dep.id})
    return requests.create(
        ctx,
        "renew",
        actor,
        reason,
        renew=spec,
        deployment_id=dep.id,
        estimate=estimate,
        idempotency_key=idempotency_key,
    )
