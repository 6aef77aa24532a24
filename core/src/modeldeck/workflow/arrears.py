"""Arrears: pay-as-you-go deployments of an overdue account, kept 24 h, then released.

The seed's rule ("deployed resources are retained and continue to be billed for 24 hours, then
they are automatically released"), followed from what the provider reports: a deployment seen
`ARREARS_DOWN` is overdue since the reconciler first saw it so; its release is
`billing.arrears_release_at` of that moment. The timeline raises `arrears_release_soon`
(`billing.arrears_warning` before) and `arrears_released` once each, on any replica (a claimed
`timeline_events` row keyed by the deployment and the episode's start). A release seen later is
recorded as of the release time, so `cost` bills exactly the grace period.
"""

from __future__ import annotations

from datetime import datetime

from modeldeck.events import ArrearsKind, ArrearsTimelineEvent
from modeldeck.store import audit_log, repo
from modeldeck.store import orders as order_rows
from modeldeck.timeutil import ensure_aware
from modeldeck.workflow.context import WorkflowContext

ARREARS_DOWN = "ARREARS_DOWN"


def overdue_since(ctx: WorkflowContext, dep_id: str) -> datetime | None:
    """When the deployment's current arrears episode started (first seen ARREARS_DOWN)."""
    with ctx.store.session() as session:
        at = audit_log.status_changed_at(session, dep_id, ARREARS_DOWN)
    return ensure_aware(at) if at is not None else None


def release_at(ctx: WorkflowContext, since: datetime) -> datetime:
    from modeldeck.billing import arrears_release_at

    return arrears_release_at(since, ctx.rules)


def fire(
    ctx: WorkflowContext, dep_id: str, kind: ArrearsKind, since: datetime, now: datetime
) -> bool:
    """Raise one arrears timeline event once per episode; True if this caller fired it."""
    key = f"{kind.removeprefix('arrears_')}@{int(since.timestamp())}"
    with ctx.store.session() as session:
        event = ArrearsTimelineEvent(
            deployment=repo.deployment_to_record(repo.find_deployment(session, dep_id)),
            event=kind,
            overdue_since=since,
            release_at=release_at(ctx, since),
            actor="reconciler",
        )
        claimed = order_rows.claim_timeline_event(session, dep_id, key, now)
        if claimed:
            audit_log.record_event(session, event)
    if claimed:
        ctx.emit(event)
    return claimed


def drive_arrears(ctx: WorkflowContext, now: datetime) -> list[tuple[str, str]]:
    """Warn for every deployment in arrears whose release is near; (id, event) fired here."""
    fired: list[tuple[str, str]] = []
    with ctx.store.session() as session:
        ids = [r.id for r in repo.list_deployments(session) if r.status == ARREARS_DOWN]
    for dep_id in ids:
        since = overdue_since(ctx, dep_id)
        if since is None:
            continue
        if now >= release_at(ctx, since) - ctx.rules.arrears_warning and fire(
            ctx, dep_id, "arrears_release_soon", since, now
        ):
            fired.append((dep_id, "arrears_release_soon"))
    return fired
