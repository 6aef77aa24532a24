"""Running schedules (the reconciler's step) and showing them (`schedules`, `list`, `status`).

Each pass, for every active schedule: finish the change it has in flight (success is the scale
request's final state, through the same provider path as any scale), pause it when its
deployment is gone or its capacity is not what the schedule set last (changed by hand: never
fought), else claim the latest change that is due, once across replicas (a run row unique per
(schedule, instant) and a compare-and-set on the schedule's version), and carry it out as an
approved scale request covered by the schedule's approval.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from modeldeck import identity
from modeldeck.domain import Actor, RequestRecord, RequestStatus, ScaleSpec, in_flight
from modeldeck.errors import ConflictError, ModeldeckRuntimeError, NotFound
from modeldeck.events import (
    Event,
    ScheduleCancelled,
    ScheduledChangeApplied,
    ScheduledChangeFailed,
    ScheduledChangeStarted,
    SchedulePaused,
)
from modeldeck.schedules.calendar import Change, changes_between, next_change
from modeldeck.schedules.spec import ScheduleSpec
from modeldeck.schedules.views import ScheduledChange, ScheduleView
from modeldeck.store import audit_log, repo
from modeldeck.store import schedules as schedule_rows
from modeldeck.store.models import RequestRow
from modeldeck.timeutil import ensure_aware, utcnow
from modeldeck.workflow import execution, targets
from modeldeck.workflow.context import WorkflowContext

log = logging.getLogger(__name__)

COMPARED = ("units", "input_tpm", "output_tpm")


def _spec(row: schedule_rows.ScheduleRow) -> ScheduleSpec:
    return ScheduleSpec.model_validate(row.spec)


def changes_since(row: schedule_rows.ScheduleRow) -> datetime:
    """Changes after this instant are still to run: after the last one it claimed; a recurring
    schedule's first change is its first after activation, a window's `from` runs even if late."""
    if row.last_change_at is not None:
        return ensure_aware(row.last_change_at)
    if row.kind == "window":
        return datetime.min.replace(tzinfo=UTC)
    return ensure_aware(row.activated_at)


def _compared(level: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in level.items() if k in COMPARED and v is not None}


# --- the reconciler's step -------------------------------------------------------------------


def drive_schedules(ctx: WorkflowContext, now: datetime | None = None) -> list[tuple[str, str]]:
    """Run every active schedule's due change; (schedule id, what happened) for this replica."""
    at = ensure_aware(now) if now is not None else utcnow()
    with ctx.store.session() as session:
        ids = [r.id for r in schedule_rows.list_schedules(session, (schedule_rows.ACTIVE,))]
    done: list[tuple[str, str]] = []
    for schedule_id in ids:
        try:
            done.extend(_drive(ctx, schedule_id, at))
        except ModeldeckRuntimeError as exc:  # Model Studio unreachable: next pass
            log.warning("schedule %s: %s; tried again next pass", schedule_id, type(exc).__name__)
        except Exception:  # one schedule's failure never stops the others or the pass
            log.exception("schedule %s: unexpected error; tried again next pass", schedule_id)
    return done


def _drive(ctx: WorkflowContext, schedule_id: str, now: datetime) -> list[tuple[str, str]]:
    done: list[tuple[str, str]] = []
    if not _settle_runs(ctx, schedule_id, done):
        return done  # a change is still being carried out
    with ctx.store.session() as session:
        row = schedule_rows.get_schedule(session, schedule_id)
        if row is None or row.state != schedule_rows.ACTIVE:
            return done
        version, dep_id = row.version, row.deployment_id
        expected = _compared(row.last_set or row.baseline)
        since = changes_since(row)
        spec = _spec(row)
        requester, request_id = row.requester, row.request_id
        if schedule_rows.runs_in_flight(session, schedule_id):
            return done
    why = _pause_reason(ctx, dep_id, expected)
    if why == "wait":
        return done
    if why is not None:
        if pause(ctx, schedule_id, version, dep_id, why):
            done.append((schedule_id, "paused"))
        return done
    due = changes_between(spec, since, now)
    if not due:
        return done
    change = due[-1]  # missed changes are superseded by the latest one due
    done.extend(_claim_and_run(ctx, schedule_id, version, dep_id, change, requester, request_id))
    return done


def _pause_reason(ctx: WorkflowContext, dep_id: str, expected: dict[str, Any]) -> str | None:
    """Why the schedule must stop ("wait" while the deployment is changing), else None."""
    try:
        dep = ctx.get_deployment(dep_id)
    except NotFound:
        return f"deployment {dep_id} is gone"
    name = dep.deployed_model or dep.id
    if dep.status in targets.GONE:
        return f"deployment {name} is gone ({dep.status})"
    if in_flight(dep.status):
        return "wait"
    found = {k: getattr(dep, k) for k in expected}
    if found != expected:
        detail = ", ".join(
            f"{k} {expected[k]} -> {found[k]}" for k in expected if found[k] != expected[k]
        )
        return f"{name}'s capacity was changed by hand ({detail}); the schedule does not fight it"
    return None


def pause(ctx: WorkflowContext, schedule_id: str, version: int, dep_id: str, reason: str) -> bool:
    """Pause a schedule still at `version`, audited and announced once (`SchedulePaused`)."""
    event = SchedulePaused(
        schedule_id=schedule_id, deployment_id=dep_id, reason=reason, actor=ctx.worker_id
    )
    with ctx.store.session() as session:
        paused = schedule_rows.pause_if_unchanged(session, schedule_id, version, reason, utcnow())
        if paused:
            audit_log.record_event(session, event)
    if paused:
        ctx.emit(event)
    return paused


def _child_request(
    ctx: WorkflowContext,
    schedule_id: str,
    approved_as: str,
    requester: str,
    dep_id: str,
    change: Change,
) -> RequestRecord:
    """The approved scale request one scheduled change runs as (covered by the schedule's)."""
    from modeldeck.domain import PolicyDecision

    dep = ctx.get_deployment(dep_id)
    scale, target = targets.scale_target(
        dep, ScaleSpec(deployment=dep.id, **change.level.model_dump())
    )
    now = utcnow()
    return RequestRecord(
        id=repo.new_id("req"),
        kind="scale",
        status=RequestStatus.APPROVED,
        requester=requester,
        surface="system",
        reason=f"scheduled by {schedule_id} ({change.label}), approved as {approved_as}",
        scale=scale,
        deployment_id=dep.id,
        policy=PolicyDecision(
            auto_approve=True,
            approvers_required=0,
            rule=f"covered by schedule {schedule_id} (approved as {approved_as})",
        ),
        created_at=now,
        target=target,
        basis=targets.basis_of(dep),
    )


def _claim_and_run(
    ctx: WorkflowContext,
    schedule_id: str,
    version: int,
    dep_id: str,
    change: Change,
    requester: str,
    approved_as: str,
) -> list[tuple[str, str]]:
    level = change.level.given()
    now = utcnow()
    dep = ctx.get_deployment(dep_id)
    if _compared({k: getattr(dep, k) for k in COMPARED}) == _compared(level):
        # already at that level: nothing to ask Model Studio, the change is recorded as applied
        applied = ScheduledChangeApplied(
            schedule_id=schedule_id,
            deployment_id=dep_id,
            change_at=change.at,
            level=level,
            note="already at this capacity; nothing to change",
            actor=ctx.worker_id,
        )
        with ctx.store.session() as session:
            won = schedule_rows.claim_run(
                session, schedule_id, version, change_at=change.at, label=change.label,
                level=level, state=schedule_rows.APPLIED, request_id=None,
                worker=ctx.worker_id, now=now,
            )  # fmt: skip
            if won:
                schedule_rows.bump_schedule(
                    session, schedule_id, now, last_set=level, state=_final_state(change)
                )
                audit_log.record_event(session, applied)
        if won:
            ctx.emit(applied)
            return [(schedule_id, "applied")]
        return []
    child = _child_request(ctx, schedule_id, approved_as, requester, dep_id, change)
    started = ScheduledChangeStarted(
        schedule_id=schedule_id,
        deployment_id=dep_id,
        change_at=change.at,
        level=level,
        request_id=child.id,
        actor=ctx.worker_id,
    )
    with ctx.store.session() as session:
        won = schedule_rows.claim_run(
            session, schedule_id, version, change_at=change.at, label=change.label, level=level,
            state=schedule_rows.STARTED, request_id=child.id, worker=ctx.worker_id, now=now,
        )  # fmt: skip
        if won:
            repo.insert_request(session, child)
            session.flush()
            stored = session.get(RequestRow, child.id)
            if stored is not None:
                stored.decided_at = now
            audit_log.record_event(session, started)
    if not won:
        return []  # claimed by another replica, or the schedule changed since it was read
    ctx.emit(started)
    execution.execute(ctx, child.id)
    done: list[tuple[str, str]] = [(schedule_id, "started")]
    _settle_runs(ctx, schedule_id, done)
    return done


def _final_state(change: Change) -> str | None:
    """A window is over once its `until` change ran."""
    return schedule_rows.FINISHED if change.label == "until" else None


def _settle_runs(ctx: WorkflowContext, schedule_id: str, done: list[tuple[str, str]]) -> bool:
    """Finish the schedule's changes whose scale request ended; False while one still runs."""
    with ctx.store.session() as session:
        runs = [
            (r.id, r.request_id, r.change_at, r.label, dict(r.level))
            for r in schedule_rows.runs_in_flight(session, schedule_id)
        ]
        row = schedule_rows.get_schedule(session, schedule_id)
        dep_id = row.deployment_id if row is not None else ""
    settled = True
    for run_id, request_id, change_at, label, level in runs:
        request = ctx.get_request(request_id or "")
        if request.status not in (RequestStatus.EXECUTED, RequestStatus.FAILED):
            settled = False
            continue
        ok = request.status == RequestStatus.EXECUTED
        event: Event
        if ok:
            event = ScheduledChangeApplied(
                schedule_id=schedule_id, deployment_id=dep_id, change_at=change_at,
                level=level, request_id=request_id, actor=ctx.worker_id,
            )  # fmt: skip
        else:
            event = ScheduledChangeFailed(
                schedule_id=schedule_id, deployment_id=dep_id, change_at=change_at,
                level=level, request_id=request_id, error=request.error or "failed",
                actor=ctx.worker_id,
            )  # fmt: skip
        with ctx.store.session() as session:
            won = schedule_rows.finish_run(
                session,
                run_id,
                schedule_rows.APPLIED if ok else schedule_rows.FAILED,
                utcnow(),
                error=None if ok else request.error,
                last_set=level if ok else None,
                schedule_state=schedule_rows.FINISHED if ok and label == "until" else None,
            )
            if won:
                audit_log.record_event(session, event)
        if won:
            ctx.emit(event)
            done.append((schedule_id, "applied" if ok else "failed"))
    return settled


def cancel_schedule(
    ctx: WorkflowContext, schedule_id: str, actor: Actor, reason: str | None = None
) -> ScheduleView:
    """End a schedule (active or paused): audited, announced once. Whoever may request capacity
    may stop a schedule (it buys nothing); the deployment keeps the capacity it has."""
    identity.require(actor, "request")
    with ctx.store.session() as session:
        row = schedule_rows.get_schedule(session, schedule_id)
        if row is None:
            raise NotFound(
                f"No schedule {schedule_id!r}.", hint="`schedules` lists them with their ids."
            )
        dep_id, state = row.deployment_id, row.state
    why = f"cancelled by {actor.principal}" + (f": {reason}" if reason else "")
    with ctx.store.session() as session:
        before = schedule_rows.cancel(session, schedule_id, why, utcnow())
        event = None
        if before is not None:
            event = ScheduleCancelled(
                schedule_id=schedule_id, deployment_id=dep_id, previous_state=before,
                reason=reason, actor=actor.principal, surface=actor.surface,
            )  # fmt: skip
            audit_log.record_event(session, event)
    if event is None:
        raise ConflictError(
            f"{schedule_id} is {state}: only an active or paused schedule can be cancelled."
        )
    ctx.emit(event)
    return next(v for v in schedule_views(ctx) if v.id == schedule_id)


# --- what the surfaces show ------------------------------------------------------------------


def schedule_views(ctx: WorkflowContext, now: datetime | None = None) -> list[ScheduleView]:
    """Every schedule with its state and (while active) its next change."""
    at = ensure_aware(now) if now is not None else utcnow()
    with ctx.store.session() as session:
        rows = schedule_rows.list_schedules(session)
        names = {d.id: d.deployed_model or d.id for d in repo.list_deployments(session, True)}
    views = []
    for row in rows:
        spec = _spec(row)
        upcoming = None
        if row.state == schedule_rows.ACTIVE:
            after = max(at, changes_since(row))
            found = next_change(spec, after)
            if found is not None:
                upcoming = ScheduledChange(
                    schedule_id=row.id,
                    deployment_id=row.deployment_id,
                    at=found.at,
                    level=found.level.describe(),
                    label=found.label,
                )
        views.append(
            ScheduleView(
                id=row.id,
                request_id=row.request_id,
                deployment_id=row.deployment_id,
                deployment=names.get(row.deployment_id, row.deployment_id),
                kind=row.kind,
                state=row.state,
                summary=spec.describe(),
                paused_reason=row.paused_reason,
                last_set=row.last_set,
                last_change_at=row.last_change_at,
                activated_at=row.activated_at,
                next_change=upcoming,
            )
        )
    return views
