"""Alerts for things that happen once: an execution failed, a deployment was imported from the
console, the capacity changed behind modeldeck's back (drift, fed to the capacity-mismatch
rule). Raised when the event is published, claimed once in the store (replicas agree) and
routed by `[[alerts.routes]]`, like every other alert.

**Decision**: drift is alerted as `capacity_mismatch` (the rule's kind), not as a second alert
kind: one console change is one alert.
"""

from __future__ import annotations

import logging
from datetime import datetime

from modeldeck import events
from modeldeck.alerts.models import AlertCandidate, DeploymentState, RaisedAlert
from modeldeck.alerts.rules import capacity_mismatch
from modeldeck.billing.accrual import Capacity
from modeldeck.budgets.models import BudgetTarget
from modeldeck.store.alerts import raise_due
from modeldeck.timeutil import ensure_aware, utcnow
from modeldeck.workflow.context import WorkflowContext

log = logging.getLogger(__name__)

ERROR_SHOWN = 300  # characters of an execution error carried by its alert


def _failed(event: events.ExecutionFailed, now: datetime) -> AlertCandidate:
    request = event.request
    return AlertCandidate(
        kind="execution_failed",
        scope=f"request:{request.id}",
        period="once",
        severity="critical",
        title=f"{request.id} failed: {request.summary}",
        text=f"Carrying out {request.id} ({request.summary}, asked by {request.requester}) "
        f"failed: {event.error[:ERROR_SHOWN]}",
        at=now,
        data={"request": request.id, "error": event.error[:ERROR_SHOWN]},
    )


def _imported(event: events.DeploymentImported, now: datetime) -> AlertCandidate:
    dep = event.deployment
    ref = dep.deployed_model or dep.id
    return AlertCandidate(
        kind="console_import",
        scope=f"deployment:{dep.id}",
        period="once",
        severity="info",
        title=f"{ref}: made outside modeldeck",
        text=f"{ref} ({dep.model}, {dep.plan} {dep.billing}, status {dep.status}) was made in "
        "the console or another tool; modeldeck now tracks and bills it (no tags: budgets by "
        "tag do not cover it).",
        at=now,
        data={"deployed_model": ref, "billing": dep.billing},
    )


def _drift(
    ctx: WorkflowContext, event: events.DriftDetected, now: datetime
) -> AlertCandidate | None:
    dep = ctx.get_deployment(event.deployment_id)
    state = DeploymentState(
        target=BudgetTarget(id=dep.id, deployed_model=dep.deployed_model, name=dep.name),
        status=dep.status,
        plan=dep.plan,
        billing=dep.billing,
        created_at=dep.created_at,
        recorded=Capacity.model_validate(event.stored),
        observed=Capacity.model_validate(event.provider),
    )
    return capacity_mismatch(state, now)


def candidate_for(ctx: WorkflowContext, event: events.Event) -> AlertCandidate | None:
    """The alert an event calls for, if any."""
    now = ensure_aware(getattr(event, "at", None) or utcnow())
    if isinstance(event, events.ExecutionFailed):
        return _failed(event, now)
    if isinstance(event, events.DeploymentImported):
        return _imported(event, now)
    if isinstance(event, events.DriftDetected):
        return _drift(ctx, event, now)
    return None


def raise_for_event(ctx: WorkflowContext, event: events.Event) -> list[RaisedAlert]:
    """Raise the event's alert once (claimed row) and publish it as `AlertRaised`; a failure is
    logged, never raised: the event itself has happened and is already announced."""
    from modeldeck.workflow.spend import alert_event

    try:
        candidate = candidate_for(ctx, event)
        if candidate is None:
            return []
        with ctx.store.session() as session:
            new = raise_due(session, [candidate], raised_by=ctx.worker_id, now=candidate.at)
    except Exception:
        log.exception("alert for %s could not be raised", type(event).__name__)
        return []
    for alert in new:
        ctx.emit(alert_event(ctx, alert))
    return new
