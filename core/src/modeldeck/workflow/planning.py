"""The `plan` verb's work: read the trace from where the spec says, plan it, and (on `apply`)
turn the chosen option into a deploy or scale request through the normal approval workflow.

`make_plan` needs a store only for `deployment=` (metering, and today's capacity); a CSV trace is
planned from the catalog alone, so `plan trace=<file>` opens no store (docs/planner.md).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from modeldeck.domain import Actor, DeploymentRecord, DeploySpec, RequestRecord, ScaleSpec
from modeldeck.errors import UserError
from modeldeck.planner import (
    CurrentCapacity,
    MuUnitTpm,
    PlanResult,
    PrometheusUsage,
    Trace,
    parse_csv_trace,
    plan,
    read_csv_trace,
    trace_from_metering,
)
from modeldeck.planner.result import OptionName, OptionResult
from modeldeck.planner.spec import PlanSpec
from modeldeck.schedules.spec import ScheduleEntry, ScheduleLevel, ScheduleSpec

if TYPE_CHECKING:
    from modeldeck.billing.rules import BillingRules
    from modeldeck.catalog import Catalog
    from modeldeck.settings import Settings
    from modeldeck.store import Store
    from modeldeck.workflow.context import WorkflowContext

__all__ = ["apply_option", "current_capacity", "load_trace", "make_plan"]

MINUTES_PER_DAY = 1440


def _period(spec: PlanSpec, settings: Settings, now: datetime | None) -> tuple[datetime, datetime]:
    from modeldeck.workflow.costs import resolve_period

    return resolve_period(spec.period or settings.planner.period, now)


def _prometheus(settings: Settings) -> PrometheusUsage:
    conf = settings.planner
    missing = [
        name
        for name, value in (
            ("prometheus_url", conf.prometheus_url),
            ("access_key_id", conf.access_key_id),
            ("access_key_secret", conf.access_key_secret),
        )
        if not value
    ]
    if missing or conf.prometheus_url is None or conf.access_key_id is None:
        raise UserError(
            f"Planning from Prometheus needs [planner] {', '.join(missing)} in the configuration.",
            hint="Set prometheus_url (the advanced monitoring address from the console) and an "
            "AccessKey pair: access_key_id, access_key_secret (MODELDECK_PLANNER__… works too).",
        )
    assert conf.access_key_secret is not None
    return PrometheusUsage(
        conf.prometheus_url,
        conf.access_key_id,
        conf.access_key_secret,
        workspace_id=conf.workspace_id,
    )


def load_trace(
    spec: PlanSpec,
    settings: Settings,
    *,
    store: Store | None = None,
    deployment: DeploymentRecord | None = None,
    now: datetime | None = None,
) -> Trace:
    """The spec's trace: the CSV text (or file), the deployment's metering, or Prometheus."""
    if spec.source == "csv":
        if spec.trace_csv is not None:
            return parse_csv_trace(spec.trace_csv, source=spec.trace or "CSV")
        assert spec.trace is not None
        return read_csv_trace(spec.trace)
    since, until = _period(spec, settings, now)
    if spec.source == "prometheus":
        code = deployment.deployed_model if deployment and deployment.deployed_model else None
        with _prometheus(settings) as prom:
            return prom.trace(code or spec.model, since, until)
    if store is None or deployment is None:
        raise UserError(
            "Planning from metering needs a deployment: deployment=<ref>.",
            hint="Or plan a CSV file: trace=<file.csv>.",
        )
    return trace_from_metering(store, deployment.id, since, until)


def current_capacity(dep: DeploymentRecord) -> CurrentCapacity:
    """What a deployment runs today, in the planner's terms."""
    if dep.plan == "mu":
        return CurrentCapacity(billing="mu", units=dep.units or 0)
    billing = "upfront" if dep.billing == "upfront" else "hourly"
    return CurrentCapacity(
        billing=billing, input_tpm=dep.input_tpm or 0, output_tpm=dep.output_tpm or 0
    )


def make_plan(
    spec: PlanSpec,
    settings: Settings,
    catalog: Catalog,
    rules: BillingRules,
    *,
    store: Store | None = None,
    deployment: DeploymentRecord | None = None,
    now: datetime | None = None,
) -> PlanResult:
    """Plan the spec's trace with the `[planner]` defaults (coverage, MU throughput)."""
    trace = load_trace(spec, settings, store=store, deployment=deployment, now=now)
    if deployment is not None and catalog.resolve_model(spec.model) != catalog.resolve_model(
        deployment.model
    ):
        raise UserError(
            f"{deployment.deployed_model or deployment.id} runs {deployment.model}, "
            f"not {spec.model}.",
            hint=f"Plan it as: plan {deployment.model} deployment=…",
        )
    coverage = spec.coverage if spec.coverage is not None else settings.planner.coverage
    mu_unit = {
        catalog.resolve_model(name): MuUnitTpm(input_tpm=unit.input_tpm, output_tpm=unit.output_tpm)
        for name, unit in settings.planner.mu_unit_tpm.items()
    }
    current = current_capacity(deployment) if deployment is not None else None
    unknown_unit = catalog.resolve_model(spec.model) not in mu_unit
    if current is not None and current.billing == "mu" and unknown_unit:
        current = None  # an MU deployment is priced only with its unit's throughput
    return plan(
        trace,
        spec.model,
        catalog=catalog,
        rules=rules,
        mode=spec.mode,
        coverage=coverage,
        options=spec.options,
        current=current,
        mu_unit_tpm=mu_unit,
    )


def _chosen(result: PlanResult, option: OptionName | None) -> OptionResult:
    name = option or result.recommended
    if name is None:
        raise UserError(
            "No option meets the coverage, so there is nothing to recommend and apply.",
            hint="Name one with option=<name>, or plan with a lower coverage=.",
        )
    try:
        chosen = result.option(name)
    except KeyError:
        raise UserError(
            f"The option {name} was not planned.",
            hint="Leave options= out, or list it there.",
        ) from None
    if not chosen.available:
        raise UserError(f"The option {name} cannot be priced: {chosen.error}")
    if name == "payg":
        raise UserError(
            "payg reserves nothing, so there is no deploy or scale to request.",
            hint="Calls to the model's own name are billed pay-as-you-go without a deployment; "
            "to stop a reservation, unpublish its deployment.",
        )
    return chosen


def _reason(result: PlanResult, chosen: OptionResult, reason: str | None) -> str:
    if reason:
        return reason
    total = f"{chosen.reserved} {chosen.currency}" if chosen.reserved is not None else "unknown"
    return (
        f"plan apply: the {chosen.option} option for {result.trace.minutes:,} minutes of "
        f"{result.trace.source} usage (reserved {total})"
    )


def apply_option(
    ctx: WorkflowContext,
    result: PlanResult,
    actor: Actor,
    *,
    option: OptionName | None = None,
    deployment: DeploymentRecord | None = None,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> RequestRecord:
    """A deploy (no deployment) or scale request for one planned option, priced over the trace's
    span so its estimate is the option's reserved cost; it then waits for its approvals."""
    from modeldeck.workflow import requests

    chosen = _chosen(result, option)
    if chosen.option == "schedule":
        return _apply_schedule(ctx, result, chosen, actor, deployment, reason, idempotency_key)
    minutes = result.trace.minutes
    hours = Decimal(minutes) / 60 if chosen.billing == "hourly" else None
    days = -(-minutes // MINUTES_PER_DAY) if chosen.billing == "upfront" else None
    why = _reason(result, chosen, reason)
    plan_kind = "mu" if chosen.option == "mu" else "ptu"
    if deployment is None:
        spec = DeploySpec(
            model=result.model,
            plan=plan_kind,
            mode="thinking" if result.mode == "thinking" else "instruct",
            billing="upfront" if chosen.billing == "upfront" else "hourly",
            input_tpm=chosen.input_tpm if plan_kind == "ptu" else None,
            output_tpm=chosen.output_tpm if plan_kind == "ptu" else None,
            units=chosen.units if plan_kind == "mu" else None,
            hours=hours,
            days=days,
        )
        return requests.request_deploy(ctx, spec, actor, why, idempotency_key)
    name = deployment.deployed_model or deployment.id
    if deployment.plan != plan_kind:
        raise UserError(
            f"{name} is a {deployment.plan} deployment; the {chosen.option} option is {plan_kind}.",
            hint="Apply an option of its plan, or plan without deployment= to deploy a new one.",
        )
    wanted = "upfront" if chosen.billing == "upfront" else "hourly"
    if plan_kind == "ptu" and deployment.billing != wanted:
        raise UserError(
            f"{name} is billed {deployment.billing}; the {chosen.option} option is billed "
            f"{wanted}, and a deployment's billing method cannot change.",
            hint=f"Apply option={deployment.billing}, or unpublish it and deploy the option anew.",
        )
    scale = ScaleSpec(
        deployment=deployment.id,
        units=chosen.units if plan_kind == "mu" else None,
        input_tpm=chosen.input_tpm if plan_kind == "ptu" else None,
        output_tpm=chosen.output_tpm if plan_kind == "ptu" else None,
    )
    return requests.request_scale(ctx, scale, actor, why, idempotency_key, hours=hours, days=days)


def schedule_of(chosen: OptionResult, deployment: str) -> ScheduleSpec:
    """The planner's capacity per Beijing hour as a daily schedule: one entry at each hour whose
    capacity differs from the hour before it (the day wraps round)."""
    hours = sorted(chosen.schedule or [], key=lambda h: h.hour)
    if not hours:
        raise UserError("The schedule option has no hours to schedule.")
    levels = [(h.hour, (h.input_tpm, h.output_tpm)) for h in hours]
    # hour 0 is compared with the day's last hour: the day wraps round
    changes = [(hour, lv) for i, (hour, lv) in enumerate(levels) if lv != levels[i - 1][1]]
    entries = [
        ScheduleEntry(
            days=list(range(7)),
            time=f"{hour:02d}:00",
            level=ScheduleLevel(input_tpm=lv[0], output_tpm=lv[1]),
        )
        for hour, lv in (changes or levels[:1])  # every hour the same: one daily entry
    ]
    return ScheduleSpec(deployment=deployment, kind="recurring", entries=entries)


def _apply_schedule(
    ctx: WorkflowContext,
    result: PlanResult,
    chosen: OptionResult,
    actor: Actor,
    deployment: DeploymentRecord | None,
    reason: str | None,
    idempotency_key: str | None = None,
) -> RequestRecord:
    """`apply option=schedule`: a schedule request of the deployment, one level per change of
    the planned Beijing-hour capacity, approved like any schedule (for its maximum cost)."""
    from modeldeck.workflow import schedule_requests

    if deployment is None:
        raise UserError(
            "The schedule option changes capacity by the hour: it is applied to a running "
            "deployment, as a schedule request.",
            hint="Deploy first (option=hourly), then plan deployment=<ref> apply option=schedule.",
        )
    if deployment.plan != "ptu":
        name = deployment.deployed_model or deployment.id
        raise UserError(
            f"{name} is a {deployment.plan} deployment; the schedule option is PTU capacity.",
            hint="Apply it to an hourly PTU deployment.",
        )
    spec = schedule_of(chosen, deployment.id)
    why = _reason(result, chosen, reason)
    return schedule_requests.request_schedule(ctx, spec, actor, why, idempotency_key)
