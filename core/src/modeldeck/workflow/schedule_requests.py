"""Schedule requests: `schedule <deployment> <capacity> at="<days> <HH:MM>" …` and one-off windows
(`scale <deployment> units=8 from=… until=…`), validated and priced for their maximum cost, then
stored for approval like any request (admit, policy, budgets, approvals).

Decision (docs/schedules.md): a schedule is approved once, for the most it can cost. A recurring
schedule is priced as its highest level running the whole week (168 h, the period its calendar
repeats); a window as its level over the window. The estimate says so in its notes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from modeldeck.domain import Actor, DeploymentRecord, DeploySpec, Estimate, RequestRecord, ScaleSpec
from modeldeck.errors import ConflictError, UserError, ValidationFailed
from modeldeck.schedules.spec import ScheduleLevel, ScheduleSpec
from modeldeck.store import schedules as schedule_rows
from modeldeck.timeutil import ensure_aware, iso, to_beijing, utcnow
from modeldeck.workflow import requests, targets
from modeldeck.workflow.context import WorkflowContext

WEEK_HOURS = Decimal(168)


def request_schedule(
    ctx: WorkflowContext,
    spec: ScheduleSpec,
    actor: Actor,
    reason: str | None,
    idempotency_key: str | None = None,
    *,
    now: datetime | None = None,
) -> RequestRecord:
    """Validate, fill and price a schedule, then store it for approval."""
    if (first := requests.admit(ctx, actor, idempotency_key)) is not None:
        return first
    at = ensure_aware(now) if now is not None else utcnow()
    dep = ctx.get_deployment(spec.deployment)
    name = dep.deployed_model or dep.id
    if dep.status in targets.GONE:
        raise ConflictError(f"{name} is unpublished: there is nothing to schedule.")
    if dep.billing != "hourly":
        raise UserError(
            f"{name} is billed {dep.billing}: scheduled capacity is for hourly-billed deployments "
            "(a prepaid order is bought for its whole term at one capacity).",
            hint="Deploy an hourly PTU or MU deployment to scale on a schedule.",
        )
    filled = _filled(spec, dep, at)
    with ctx.store.session() as session:
        current = schedule_rows.active_for(session, dep.id)
    if current is not None:
        raise ConflictError(
            f"{name} already runs schedule {current.id}: one schedule per deployment, so two "
            "never fight over its capacity.",
            hint="See it with `schedules`; it ends when paused, or when its window is over.",
        )
    estimate = _max_estimate(ctx, filled, dep)
    target = _target(dep, _highest(ctx, filled, dep))
    return requests.create(
        ctx,
        "schedule",
        actor,
        reason,
        schedule=filled,
        deployment_id=dep.id,
        estimate=estimate,
        target=target,
        basis=targets.basis_of(dep),
        idempotency_key=idempotency_key,
    )


def current_level(dep: DeploymentRecord) -> ScheduleLevel:
    """What the deployment runs now, as a schedule level."""
    if dep.plan == "mu":
        return ScheduleLevel(units=dep.units)
    return ScheduleLevel(
        input_tpm=dep.input_tpm,
        output_tpm=dep.output_tpm,
        thinking_output_tpm=dep.thinking_output_tpm if dep.mode == "thinking" else None,
    )


def _fill_level(level: ScheduleLevel, dep: DeploymentRecord) -> ScheduleLevel:
    """A complete level: the plan's own keys, missing directions from the deployment now."""
    name = dep.deployed_model or dep.id
    if dep.plan == "mu" and level.units is None:
        raise UserError(
            f"{name} is a Model Unit deployment: schedule it with units=<n>.",
            hint=f'Example: schedule {name} units=4 at="mon-fri 09:00" units=1 at="mon-fri 19:00"',
        )
    if dep.plan == "ptu" and level.units is not None:
        raise UserError(
            f"{name} is a Provisioned Throughput deployment: schedule it with in=<TPM> out=<TPM>.",
            hint=f'Example: schedule {name} in=40000 out=4000 at="mon-fri 09:00"',
        )
    scale = ScaleSpec(deployment=dep.id, **level.model_dump())
    filled, _ = targets.scale_target(dep, scale)
    return ScheduleLevel(
        units=filled.units,
        input_tpm=filled.input_tpm,
        output_tpm=filled.output_tpm,
        thinking_output_tpm=filled.thinking_output_tpm,
    )


def _filled(spec: ScheduleSpec, dep: DeploymentRecord, now: datetime) -> ScheduleSpec:
    if spec.kind == "window":
        if spec.level is None or spec.window_from is None or spec.window_until is None:
            raise ValidationFailed(
                "A capacity window needs a capacity, from= and until=.",
                hint="Example: scale <deployment> units=8 from=2026-12-11T00:00 "
                "until=2026-12-12T00:00",
            )
        start, end = ensure_aware(spec.window_from), ensure_aware(spec.window_until)
        check_window(start, end, now)
        return spec.model_copy(
            update={
                "deployment": dep.id,
                "level": _fill_level(spec.level, dep),
                "restore": current_level(dep),
                "window_from": start,
                "window_until": end,
            }
        )
    if not spec.entries:
        raise ValidationFailed(
            'A schedule needs at least one capacity and at="<days> <HH:MM>".',
            hint='Example: schedule <deployment> in=40000 out=4000 at="mon-fri 09:00" '
            'in=10000 out=1000 at="mon-fri 19:00"',
        )
    entries = [e.model_copy(update={"level": _fill_level(e.level, dep)}) for e in spec.entries]
    return spec.model_copy(update={"deployment": dep.id, "entries": entries})


def check_window(start: datetime, end: datetime, now: datetime) -> None:
    """A window runs forward, and not in the past."""
    if end <= start:
        raise ValidationFailed(
            f"until= ({iso(to_beijing(end))}) must be after from= ({iso(to_beijing(start))}).",
            hint="Times without an offset are Beijing time, e.g. from=2026-12-11T00:00 "
            "until=2026-12-12T00:00.",
        )
    if start < now:
        raise ValidationFailed(
            f"from= ({iso(to_beijing(start))}) is in the past (now {iso(to_beijing(now))}): a "
            "window is scheduled ahead.",
            hint="To change the capacity now, scale without from=/until=.",
        )


def _target(
    dep: DeploymentRecord, level: ScheduleLevel, hours: Decimal | None = None
) -> DeploySpec:
    return DeploySpec(
        model=dep.model,
        plan=dep.plan,
        mode=dep.mode,
        billing="hourly",
        hours=hours,
        **level.model_dump(),
    )


def _hours(spec: ScheduleSpec) -> Decimal:
    if spec.kind == "window" and spec.window_from and spec.window_until:
        seconds = int((spec.window_until - spec.window_from).total_seconds())
        return Decimal(seconds) / 3600
    return WEEK_HOURS


def _highest(ctx: WorkflowContext, spec: ScheduleSpec, dep: DeploymentRecord) -> ScheduleLevel:
    """The level that costs most per hour (the first of equals)."""
    levels = spec.levels()
    priced = [
        (Decimal(ctx.estimate(_target(dep, lv, Decimal(1))).total), i)
        for i, lv in enumerate(levels)
    ]
    return levels[max(priced, key=lambda p: (p[0], -p[1]))[1]]


def _max_estimate(ctx: WorkflowContext, spec: ScheduleSpec, dep: DeploymentRecord) -> Estimate:
    """The estimate the approvers see: the highest level over the whole period (the maximum)."""
    highest = _highest(ctx, spec, dep)
    hours = _hours(spec)
    est = ctx.estimate(_target(dep, highest, hours))
    if spec.kind == "window":
        back = spec.restore.describe() if spec.restore else "?"
        note = (
            f"Approved once for the window: {highest.describe()} for {hours.normalize():f} h "
            f"({spec.describe()}, Beijing); then back to {back}."
        )
    else:
        note = (
            f"Approved once for its maximum: the highest level ({highest.describe()}) for a "
            f"whole week ({WEEK_HOURS} h) — each week of the schedule costs at most this; it runs "
            "until it is paused."
        )
    return est.model_copy(update={"notes": [note, *est.notes]})
