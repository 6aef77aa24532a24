"""Activating an approved schedule request: its row in the store, once, with the capacity the
deployment runs then (what the schedule expects to find until it sets its first level)."""

from __future__ import annotations

from modeldeck.domain import DeploymentRecord, RequestRecord
from modeldeck.errors import ConflictError
from modeldeck.events import ScheduleActivated
from modeldeck.schedules.spec import ScheduleLevel
from modeldeck.store import audit_log
from modeldeck.store import schedules as schedule_rows
from modeldeck.timeutil import ensure_aware, utcnow
from modeldeck.workflow.context import WorkflowContext


def schedule_id_of(request_id: str) -> str:
    """The schedule a request activates has an id derived from it (a re-run finds its row)."""
    return "sch_" + request_id.split("_", 1)[-1]


def level_of(dep: DeploymentRecord) -> dict[str, int]:
    """The deployment's capacity now, in the directions a level names."""
    if dep.plan == "mu":
        return ScheduleLevel(units=dep.units).given()
    return ScheduleLevel(input_tpm=dep.input_tpm, output_tpm=dep.output_tpm).given()


def activate(ctx: WorkflowContext, record: RequestRecord, dep: DeploymentRecord) -> str:
    """Put an approved schedule in force (once per request); its id. Refused (the request fails,
    nothing changes at Model Studio) when another schedule holds the deployment, or a window
    ended before it was approved."""
    spec = record.schedule
    assert spec is not None
    now = utcnow()
    name = dep.deployed_model or dep.id
    if spec.kind == "window" and spec.window_until and ensure_aware(spec.window_until) <= now:
        raise ConflictError(
            f"{record.id} was not carried out: its window on {name} ended before it was approved.",
            hint="Nothing changed at Model Studio; ask again for a window ahead.",
        )
    schedule_id = schedule_id_of(record.id)
    event = ScheduleActivated(
        schedule_id=schedule_id,
        request_id=record.id,
        deployment_id=dep.id,
        summary=spec.describe(),
        actor=ctx.worker_id,
    )
    with ctx.store.session() as session:
        holder = schedule_rows.active_for(session, dep.id)
        if holder is not None and holder.request_id != record.id:
            raise ConflictError(
                f"{record.id} was not carried out: {name} runs schedule {holder.id} already.",
                hint="One schedule per deployment; nothing changed at Model Studio.",
            )
        row = schedule_rows.ScheduleRow(
            id=schedule_id,
            request_id=record.id,
            deployment_id=dep.id,
            kind=spec.kind,
            spec=spec.model_dump(mode="json"),
            state=schedule_rows.ACTIVE,
            version=0,
            requester=record.requester,
            baseline=level_of(dep),
            last_set=None,
            last_change_at=None,
            paused_reason=None,
            activated_at=now,
            updated_at=now,
        )
        fresh = schedule_rows.insert_schedule_once(session, row)
        if fresh:
            audit_log.record_event(session, event)
    if fresh:
        ctx.emit(event)
    return schedule_id
