"""Alert rules: pure functions from forecasts, budgets, overflow, orders and deployment states
to alert candidates with a stable dedup key (kind, scope, period). docs/budgets.md lists them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from modeldeck.alerts.config import AlertSettings
from modeldeck.alerts.models import (
    AlertCandidate,
    DeploymentState,
    OrderState,
    OverflowWindow,
)
from modeldeck.billing.forecast import BudgetForecast
from modeldeck.billing.rules import DEFAULT_RULES, BillingRules
from modeldeck.money import format_amount, round_cents
from modeldeck.timeutil import ensure_aware, iso, to_beijing

RESERVING = {"RUNNING", "UPDATING", "UPDATING_FAILED"}
STOPPED = {"STOPPED", "OFFLINING"}
ARREARS = {"ARREARS_DOWN"}


def _stamp(at: datetime) -> str:
    return iso(to_beijing(at))


def _period(item: BudgetForecast) -> str:
    return f"{to_beijing(item.period_start):%Y-%m-%d}..{to_beijing(item.period_end):%Y-%m-%d}"


def budget_alerts(items: Iterable[BudgetForecast], now: datetime) -> list[AlertCandidate]:
    """The highest threshold spend to date has crossed, and a forecast above the amount."""
    out = []
    for item in items:
        budget = item.budget
        scope = f"budget:{budget.name}"
        amount = format_amount(budget.amount_usd)
        spent = format_amount(item.to_date)
        hard = (
            " It is a hard budget: requests that would cross it need an admin."
            if budget.hard
            else ""
        )
        data = {"budget": budget.name, "to_date": str(item.to_date), "total": str(item.total)}
        if item.crossed:
            top = item.crossed[-1]
            out.append(
                AlertCandidate(
                    kind=f"budget_threshold:{top}",
                    scope=scope,
                    period=_period(item),
                    severity="critical" if top >= 100 else "warning",
                    title=f"Budget {budget.name}: {top}% reached",
                    text=f"{spent} spent of {amount} ({round_cents(item.spent_percent)}%) "
                    f"this period ({budget.scope}).{hard}",
                    at=now,
                    data={**data, "threshold": str(top)},
                )
            )
        if item.overrun:
            out.append(
                AlertCandidate(
                    kind="forecast_overrun",
                    scope=scope,
                    period=_period(item),
                    severity="warning",
                    title=f"Budget {budget.name}: forecast {format_amount(item.total)} "
                    f"exceeds {amount}",
                    text=f"Spent {spent} so far; {format_amount(item.reserved_to_come)} reserved "
                    f"and {format_amount(item.overflow_to_come)} overflow still to come by "
                    f"{_stamp(item.period_end)}.{hard}",
                    at=now,
                    data=data,
                )
            )
    return out


def overflow_alerts(
    windows: Iterable[OverflowWindow], now: datetime, settings: AlertSettings
) -> list[AlertCandidate]:
    """Overflow spend or overflow share of input tokens above the thresholds in the window;
    deduplicated per Beijing clock hour of evaluation."""
    hour = f"{to_beijing(now):%Y-%m-%dT%H}"
    out = []
    for w in windows:
        scope = f"deployment:{w.deployment}"
        minutes = settings.overflow_window_minutes
        if w.overflow_cost > settings.overflow_usd:
            out.append(
                AlertCandidate(
                    kind="overflow_spend",
                    scope=scope,
                    period=hour,
                    severity="warning",
                    title=f"{w.deployment}: {format_amount(w.overflow_cost)} overflow in "
                    f"{minutes} min",
                    text="Calls beyond the purchased capacity are billed per token at "
                    f"pay-as-you-go prices (threshold {format_amount(settings.overflow_usd)}).",
                    at=now,
                    data={"overflow_cost": str(w.overflow_cost)},
                )
            )
        if w.input_tokens and w.share_percent > settings.overflow_share_percent:
            out.append(
                AlertCandidate(
                    kind="overflow_share",
                    scope=scope,
                    period=hour,
                    severity="warning",
                    title=f"{w.deployment}: {round_cents(w.share_percent)}% of input tokens "
                    "overflowed",
                    text=f"{w.overflow_input_tokens:,} of {w.input_tokens:,} input tokens in the "
                    f"last {minutes} min went beyond the purchased capacity (threshold "
                    f"{settings.overflow_share_percent}%). Consider scaling up.",
                    at=now,
                    data={"share_percent": str(w.share_percent)},
                )
            )
    return out


def order_alerts(
    orders: Iterable[OrderState], now: datetime, settings: AlertSettings
) -> list[AlertCandidate]:
    """Upfront expiry warnings (the most urgent window only), then stopped and released."""
    out = []
    late = timedelta(hours=settings.late_hours)
    for o in orders:
        scope = f"deployment:{o.deployment_id}"
        expires, stops, released = (
            ensure_aware(t) for t in (o.expires_at, o.stops_at, o.released_at)
        )
        data = {"order": o.order_id, "expires_at": _stamp(expires)}
        if now < expires and not o.auto_renew:
            due = [h for h in settings.expiry_warn_hours if now >= expires - timedelta(hours=h)]
            if due:
                hours = min(due)
                out.append(
                    AlertCandidate(
                        kind=f"expiry:{hours}h",
                        scope=scope,
                        period=_stamp(expires),
                        severity="critical" if hours <= 2 else "warning",
                        title=f"{o.deployment_id}: upfront order expires within {hours} h",
                        text=f"Order {o.order_id} is valid until {_stamp(expires)}; the service "
                        f"stops at {_stamp(stops)} and is released at {_stamp(released)} "
                        "unless it is renewed.",
                        at=now,
                        data=data,
                    )
                )
        elif stops <= now < min(released, stops + late):
            out.append(
                AlertCandidate(
                    kind="stopped",
                    scope=scope,
                    period=_stamp(stops),
                    severity="critical",
                    title=f"{o.deployment_id}: stopped (upfront order expired)",
                    text=f"Order {o.order_id} expired at {_stamp(expires)}; resources are kept "
                    f"until {_stamp(released)}, then released.",
                    at=now,
                    data=data,
                )
            )
        elif released <= now < released + late:
            out.append(
                AlertCandidate(
                    kind="released",
                    scope=scope,
                    period=_stamp(released),
                    severity="critical",
                    title=f"{o.deployment_id}: released",
                    text=f"Order {o.order_id} expired at {_stamp(expires)} and was not renewed; "
                    "the deployment's resources were released.",
                    at=now,
                    data=data,
                )
            )
    return out


def state_alerts(
    states: Iterable[DeploymentState],
    now: datetime,
    settings: AlertSettings,
    rules: BillingRules = DEFAULT_RULES,
    *,
    covered: set[str] | None = None,
) -> list[AlertCandidate]:
    """Stopped (not by an order), arrears, capacity mismatch and idle reserved deployments.

    `covered`: deployment ids whose stop an order alert already explains.
    """
    out = []
    idle = timedelta(hours=settings.idle_hours)
    for s in states:
        scope = f"deployment:{s.target.id}"
        since = ensure_aware(s.status_since or s.created_at)
        fresh = now - since < timedelta(hours=settings.late_hours)
        if s.status in STOPPED and s.target.id not in (covered or set()) and fresh:
            out.append(
                AlertCandidate(
                    kind="stopped",
                    scope=scope,
                    period=_stamp(since),
                    severity="warning",
                    title=f"{s.ref}: stopped",
                    text=f"Status {s.status} since {_stamp(since)}; calls fail until it "
                    "is resumed.",
                    at=now,
                )
            )
        if s.status in ARREARS or s.arrears_since is not None:
            overdue = ensure_aware(s.arrears_since or since)
            release = to_beijing(overdue) + rules.arrears_grace
            out.append(
                AlertCandidate(
                    kind="arrears",
                    scope=scope,
                    period=_stamp(overdue),
                    severity="critical",
                    title=f"{s.ref}: account in arrears",
                    text=f"Overdue since {_stamp(overdue)}: the pay-as-you-go deployment is kept "
                    f"and still billed until {_stamp(release)}, then released. Top up the "
                    "account to keep it.",
                    at=now,
                    data={"release_at": _stamp(release)},
                )
            )
        mismatch = capacity_mismatch(s, now)
        if mismatch is not None:
            out.append(mismatch)
        last = ensure_aware(s.last_call_at) if s.last_call_at else since
        if s.status in RESERVING and now - last >= idle:
            out.append(
                AlertCandidate(
                    kind="idle",
                    scope=scope,
                    period=_stamp(last),
                    severity="info",
                    title=f"{s.ref}: reserved but idle for {(now - last) // timedelta(hours=1)} h",
                    text=f"No calls since {_stamp(last)} while capacity is reserved "
                    f"({s.billing} billing). Consider scaling down or unpublishing.",
                    at=now,
                )
            )
    return out


def capacity_mismatch(state: DeploymentState, now: datetime) -> AlertCandidate | None:
    """The capacity Model Studio reports differs from what modeldeck recorded (at most one alert
    a Beijing day per deployment); None when they agree or either is unknown."""
    recorded, observed = state.recorded, state.observed
    if recorded is None or observed is None or recorded == observed:
        return None
    return AlertCandidate(
        kind="capacity_mismatch",
        scope=f"deployment:{state.target.id}",
        period=f"{to_beijing(now):%Y-%m-%d}",
        severity="warning",
        title=f"{state.ref}: capacity differs from what was bought",
        text=f"modeldeck recorded {recorded.describe()}, Model Studio reports "
        f"{observed.describe()}. Billing follows Model Studio.",
        at=now,
        data={"recorded": recorded.describe(), "observed": observed.describe()},
    )


def evaluate(
    now: datetime,
    settings: AlertSettings,
    *,
    budgets: Sequence[BudgetForecast] = (),
    overflow: Sequence[OverflowWindow] = (),
    orders: Sequence[OrderState] = (),
    states: Sequence[DeploymentState] = (),
    rules: BillingRules = DEFAULT_RULES,
) -> list[AlertCandidate]:
    """Every alert due at `now`; raise them with `modeldeck.store.alerts.raise_due`."""
    now = ensure_aware(now)
    from_orders = order_alerts(orders, now, settings)
    covered = {o.deployment_id for o in orders if ensure_aware(o.stops_at) <= now}
    return [
        *budget_alerts(budgets, now),
        *overflow_alerts(overflow, now, settings),
        *from_orders,
        *state_alerts(states, now, settings, rules, covered=covered),
    ]
