"""The weekly digest's facts: the last 7 days' spend (overflow apart), this month so far and
its forecast, upfront orders expiring in the next 7 days, and idle reserved deployments.

One typed answer for any surface that posts a digest (the Slack plugin's weekly post); read
from the cost report, the forecast and the alert rules' own inputs, so the digest and the
alerts agree on what "idle" and "expires" mean.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from modeldeck.alerts.inputs import deployment_states, order_states
from modeldeck.alerts.rules import RESERVING
from modeldeck.money import DecimalStr
from modeldeck.timeutil import ensure_aware, utcnow
from modeldeck.workflow.context import WorkflowContext
from modeldeck.workflow.costs import cost_report
from modeldeck.workflow.spend import ForecastReport, forecast_report

WEEK = timedelta(days=7)
TOP = 5


class DigestSpend(BaseModel):
    """One deployment's spend over the week."""

    deployment_id: str
    name: str
    total: DecimalStr
    overflow: DecimalStr = Decimal(0)


class ExpiringOrder(BaseModel):
    """An upfront order that expires within the next week (then the service stops)."""

    deployment_id: str
    name: str
    order_id: str
    expires_at: datetime
    stops_at: datetime


class IdleDeployment(BaseModel):
    """Reserved capacity without a call for at least the alerts' `idle_hours`."""

    deployment_id: str
    name: str
    last_call_at: datetime | None
    idle_hours: int


class WeeklyDigest(BaseModel):
    """What the weekly digest says, for the 7 days up to `now`."""

    now: datetime
    since: datetime
    currency: str = "USD"
    week_total: DecimalStr
    week_overflow: DecimalStr
    unpriced_lines: int = 0
    top: list[DigestSpend] = Field(default_factory=list)
    month_to_date: DecimalStr
    month_forecast: DecimalStr
    expiring: list[ExpiringOrder] = Field(default_factory=list)
    idle: list[IdleDeployment] = Field(default_factory=list)
    forecast: ForecastReport


def weekly_digest(ctx: WorkflowContext, now: datetime | None = None) -> WeeklyDigest:
    """The digest of the 7 days up to `now` (default: now)."""
    at = ensure_aware(now) if now is not None else utcnow()
    since = at - WEEK
    week = cost_report(ctx, None, f"{since.isoformat()}..{at.isoformat()}", now=at)
    month = forecast_report(ctx, None, "month", at)
    names = {d.id: d.name or d.deployed_model or d.id for d in ctx.list_deployments(True)}
    top = sorted(
        (
            DigestSpend(
                deployment_id=d.id,
                name=names.get(d.id, d.id),
                total=d.total,
                overflow=d.by_kind.get("overflow", Decimal(0)),
            )
            for d in week.deployments
            if d.total
        ),
        key=lambda s: s.total,
        reverse=True,
    )
    idle_for = timedelta(hours=ctx.settings.alerts.idle_hours)
    with ctx.store.session() as session:
        orders = order_states(session, at)
        states = deployment_states(session)
    expiring = [
        ExpiringOrder(
            deployment_id=o.deployment_id,
            name=names.get(o.deployment_id, o.deployment_id),
            order_id=o.order_id,
            expires_at=o.expires_at,
            stops_at=o.stops_at,
        )
        for o in orders
        if at <= ensure_aware(o.expires_at) < at + WEEK
    ]
    idle = []
    for s in states:
        last = ensure_aware(s.last_call_at or s.status_since or s.created_at)
        if s.status in RESERVING and at - last >= idle_for:
            idle.append(
                IdleDeployment(
                    deployment_id=s.target.id,
                    name=names.get(s.target.id, s.ref),
                    last_call_at=s.last_call_at,
                    idle_hours=int((at - last) // timedelta(hours=1)),
                )
            )
    return WeeklyDigest(
        now=at,
        since=since,
        currency=week.currency,
        week_total=week.total,
        week_overflow=sum((s.overflow for s in top), Decimal(0)),
        unpriced_lines=week.unpriced_lines,
        top=top[:TOP],
        month_to_date=sum((f.to_date for f in month.forecasts), Decimal(0)),
        month_forecast=sum((f.total for f in month.forecasts), Decimal(0)),
        expiring=sorted(expiring, key=lambda e: e.expires_at),
        idle=idle,
        forecast=month,
    )
