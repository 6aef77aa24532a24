"""Forecasts: what a deployment will have cost by the end of a period, with the assumptions.

Pure functions over a `DeploymentHistory` (the same input as accrual) and the Beijing calendar:
- spend to date: the accrual of [period start, now), to the cent;
- reserved spend still to come: exact from the current capacity and billing method. Hourly
  billing: the running capacity billed per started minute until the period's end, as if it keeps
  running unchanged; prepaid orders (PTU upfront, MU monthly) are paid at order time, so nothing
  more is billed for them unless auto-renewal is assumed, in which case each renewal that falls
  in the period is billed at the price of the order it renews;
- overflow still to come: the billable overflow of the last `window` (24 h by default) projected
  linearly over the rest of the period.
Each forecast states these assumptions in words. `forecast_budget` adds up the forecasts of the
deployments a budget's scope matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from typing import Literal

from pydantic import BaseModel, Field

from modeldeck.billing.accrual import CapacityEvent, DeploymentHistory, accrue
from modeldeck.billing.call_columns import CallColumns
from modeldeck.billing.overflow import OverflowTotal
from modeldeck.billing.rules import DEFAULT_RULES, BillingRules, money_context
from modeldeck.billing.timeline import order_timeline
from modeldeck.budgets.models import Budget, BudgetTarget
from modeldeck.catalog import Catalog
from modeldeck.catalog.exact import quotient
from modeldeck.money import DecimalStr, format_amount
from modeldeck.timeutil import ensure_aware, iso, to_beijing

DEFAULT_OVERFLOW_WINDOW = timedelta(hours=24)
RunState = Literal["running", "stopped", "ended", "not created"]


class Forecast(BaseModel):
    """One deployment's spend over [period_start, period_end): to date, still to come, total."""

    deployment_id: str
    model: str
    plan: str
    billing: str
    period_start: datetime
    period_end: datetime
    now: datetime
    currency: str = "USD"
    state: RunState
    to_date: DecimalStr
    to_date_by_kind: dict[str, DecimalStr] = Field(default_factory=dict)
    reserved_to_come: DecimalStr
    overflow_to_come: DecimalStr
    overflow_window_hours: DecimalStr
    overflow_in_window: DecimalStr
    assumptions: list[str] = Field(default_factory=list)

    @property
    def to_come(self) -> Decimal:
        return self.reserved_to_come + self.overflow_to_come

    @property
    def total(self) -> Decimal:
        return self.to_date + self.to_come


class BudgetForecast(BaseModel):
    """A budget's period: spend to date and forecast of the deployments its scope matches."""

    budget: Budget
    period_start: datetime
    period_end: datetime
    now: datetime
    deployments: list[str]
    to_date: DecimalStr
    reserved_to_come: DecimalStr
    overflow_to_come: DecimalStr
    assumptions: list[str] = Field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.to_date + self.reserved_to_come + self.overflow_to_come

    @property
    def spent_percent(self) -> Decimal:
        return quotient(self.to_date * 100, self.budget.amount_usd)

    @property
    def forecast_percent(self) -> Decimal:
        return quotient(self.total * 100, self.budget.amount_usd)

    @property
    def crossed(self) -> list[int]:
        """Thresholds (percent) that spend to date has reached."""
        return [t for t in self.budget.thresholds if self.to_date >= self.budget.amount_at(t)]

    @property
    def overrun(self) -> bool:
        """The forecast for the period exceeds the budget."""
        return self.total > self.budget.amount_usd


def run_state(history: DeploymentHistory, at: datetime) -> RunState:
    """Whether the deployment is running, stopped or gone at `at`, from its capacity events."""
    state: RunState = "not created"
    for event in sorted(history.events, key=lambda e: ensure_aware(e.at)):
        if ensure_aware(event.at) > at:
            break
        if event.kind in ("unpublished", "released"):
            return "ended"
        state = "stopped" if event.kind == "stopped" else "running"
    return state


def _hours(delta: timedelta) -> Decimal:
    return quotient(int(delta.total_seconds()), 3600)


def _renewals(
    history: DeploymentHistory, split: datetime, end: datetime, rules: BillingRules
) -> tuple[Decimal, list[str]]:
    """Auto-renewals of the latest order that fall in [split, end), at that order's price."""
    if not history.orders:
        return Decimal(0), []
    last = max(history.orders, key=lambda o: ensure_aware(o.ordered_at))
    if last.cancelled_at is not None or last.paid is None:
        return Decimal(0), []
    amount, notes = Decimal(0), []
    ordered = ensure_aware(last.ordered_at)
    while True:
        expires = order_timeline(ordered, last.days, rules).expires_at
        if expires >= end:
            break
        if expires >= split:
            amount += last.paid
            notes.append(
                f"renewal of {last.days} day(s) at {iso(to_beijing(expires))}: "
                f"{format_amount(last.paid)}"
            )
        ordered = expires + timedelta(seconds=1)
    return amount, notes


def projection_window(
    history: DeploymentHistory,
    period: tuple[datetime, datetime],
    now: datetime,
    window: timedelta = DEFAULT_OVERFLOW_WINDOW,
) -> tuple[datetime, datetime]:
    """[since, split): the recent calls whose overflow rate is projected (the last `window`
    before now clamped to the period, from the deployment's first event at the earliest)."""
    start, end = (ensure_aware(t) for t in period)
    split = min(max(ensure_aware(now), start), end)
    created = min((ensure_aware(e.at) for e in history.events), default=split)
    return min(max(split - window, created), split), split


def forecast(
    history: DeploymentHistory,
    period: tuple[datetime, datetime],
    now: datetime,
    catalog: Catalog,
    rules: BillingRules = DEFAULT_RULES,
    *,
    window: timedelta = DEFAULT_OVERFLOW_WINDOW,
    auto_renew: bool = False,
    calls: CallColumns | None = None,
    summed: Mapping[str, OverflowTotal] | None = None,
    recent: Mapping[str, OverflowTotal] | None = None,
    planned: Sequence[CapacityEvent] = (),
) -> Forecast:
    """The forecast of one deployment over `period` (whole [start, end), e.g. `Budget.bounds`).

    `calls`: the deployment's billable calls as columns (e.g. from `load_histories`), used
    instead of `history.calls`. `summed`: the billable overflow of [start, now) already priced
    from grouped sums, by deployment id (absent: none), as the cost query prices it; `calls`
    then need only cover the projection window. `recent`: the billable overflow of the
    projection window (`projection_window`) already priced from grouped sums, by deployment id
    (absent: none); `calls` are then not read at all. `planned`: capacity changes still to come (a
    schedule's `scaled` events), billed from their instant in the reserved spend still to come.
    """
    start, end = (ensure_aware(t) for t in period)
    now = ensure_aware(now)
    split = min(max(now, start), end)
    model = catalog.resolve_model(history.model)
    if calls is None:
        calls = CallColumns.from_calls(history.calls, catalog.model_info(model).max_input)

    def overflow_in(lo: datetime, hi: datetime) -> tuple[Decimal, str | None]:
        amount, currency, _ = calls.amount(
            lo, hi, history.deployment_id, model, history.mode, catalog
        )
        return amount, currency

    reserved_only = history.model_copy(update={"calls": []})
    with localcontext(money_context()):
        if summed is not None:  # the cost query's accrual, overflow summed in SQL
            done = accrue(
                reserved_only, start, split, catalog, rules,
                overflow=summed.get(history.deployment_id),
            )  # fmt: skip
            by_kind, currency, to_date = done.by_kind(), done.currency, done.total
        else:
            done = accrue(reserved_only, start, split, catalog, rules)
            by_kind = done.by_kind()
            spent, spent_currency = overflow_in(start, split)
            currency = done.currency if done.lines or spent_currency is None else spent_currency
            to_date = catalog.convert(done.total, done.currency, currency)
            if spent_currency is not None:
                by_kind["overflow"] = catalog.convert(spent, spent_currency, currency)
                to_date += by_kind["overflow"]
        state = run_state(history, split)
        notes: list[str] = []
        reserved = Decimal(0)
        if split < end and state == "running":
            if history.billing == "hourly":
                coming = sorted(
                    (e for e in planned if split < ensure_aware(e.at) < end),
                    key=lambda e: ensure_aware(e.at),
                )
                planned_history = reserved_only.model_copy(
                    update={"events": [*reserved_only.events, *coming]}
                )
                ahead = accrue(planned_history, split, end, catalog, rules)
                reserved = catalog.convert(ahead.total, ahead.currency, currency)
                if coming:
                    notes.append(
                        f"Reserved capacity billed hourly until {iso(to_beijing(end))} with the "
                        f"{len(coming)} scheduled change(s) still to come: "
                        + "; ".join(f"{iso(to_beijing(e.at))} → {e.describe()}" for e in coming[:5])
                        + ("; …" if len(coming) > 5 else "")
                        + " (a pause, scale, stop or unpublish changes this)."
                    )
                else:
                    notes.append(
                        f"Reserved capacity billed hourly until {iso(to_beijing(end))}, as if it "
                        "keeps running unchanged (a scale, stop or unpublish changes this)."
                    )
            else:
                notes.append(
                    "Prepaid orders are paid when placed and counted in spend to date; "
                    "nothing more is billed for them this period."
                )
                if auto_renew:
                    reserved, renewals = _renewals(history, split, end, rules)
                    notes.extend(f"Assumed auto-{r}." for r in renewals)
                else:
                    notes.append("No auto-renewal assumed.")
        elif state == "stopped":
            notes.append("Stopped: no reserved spend to come unless it is resumed.")
        elif state == "ended":
            notes.append("Unpublished or released: nothing more to come.")
        since, _ = projection_window(history, period, now, window)
        seen = Decimal(0)
        overflow = Decimal(0)
        if recent is not None:  # summed in SQL over [since, split), priced per tier
            total = recent.get(history.deployment_id) if since < split else None
            if total is not None and total.unpriced is not None:
                notes.append(
                    f"The overflow projection leaves out {total.calls:,} recent overflow "
                    f"call(s) whose price is not listed: {total.unpriced}"
                )
            elif total is not None:
                seen = catalog.convert(total.amount, total.currency, currency)
        elif since < split:
            amount, recent_currency = overflow_in(since, split)
            if recent_currency is not None:
                seen = catalog.convert(amount, recent_currency, currency)
        seconds = int((split - since).total_seconds())
        if split < end and state == "running" and seconds > 0:
            remaining = int((end - split).total_seconds())
            overflow = quotient(seen * remaining, seconds)
            notes.append(
                f"Overflow projected at the rate of the last {_hours(split - since):g} h "
                f"({format_amount(seen, currency, exact=True)} in that time) for the "
                f"{_hours(end - split):g} h left."
            )
        return Forecast(
            deployment_id=history.deployment_id,
            model=history.model,
            plan=history.plan,
            billing=history.billing,
            period_start=start,
            period_end=end,
            now=now,
            currency=currency,
            state=state,
            to_date=to_date,
            to_date_by_kind=by_kind,
            reserved_to_come=reserved,
            overflow_to_come=overflow,
            overflow_window_hours=_hours(split - since),
            overflow_in_window=seen,
            assumptions=notes,
        )


def forecast_budget(
    budget: Budget,
    forecasts: Iterable[tuple[BudgetTarget, Forecast]],
    catalog: Catalog,
    now: datetime,
) -> BudgetForecast:
    """Add up the forecasts (over the budget's period) of the deployments its scope matches."""
    start, end = budget.bounds(now)
    ids: list[str] = []
    to_date = reserved = overflow = Decimal(0)
    notes: list[str] = []
    for target, item in forecasts:
        if not budget.scope.matches(target):
            continue
        if (item.period_start, item.period_end) != (start, end):
            raise ValueError(
                f"forecast of {item.deployment_id} covers {iso(item.period_start)}.."
                f"{iso(item.period_end)}, not budget {budget.name!r}'s period"
            )
        ids.append(item.deployment_id)
        to_date += catalog.convert(item.to_date, item.currency, "USD")
        reserved += catalog.convert(item.reserved_to_come, item.currency, "USD")
        overflow += catalog.convert(item.overflow_to_come, item.currency, "USD")
        notes.extend(f"{item.deployment_id}: {note}" for note in item.assumptions)
    return BudgetForecast(
        budget=budget,
        period_start=start,
        period_end=end,
        now=ensure_aware(now),
        deployments=ids,
        to_date=to_date,
        reserved_to_come=reserved,
        overflow_to_come=overflow,
        assumptions=notes,
    )


def forecast_budgets(
    budgets: Sequence[Budget],
    deployments: Sequence[tuple[BudgetTarget, DeploymentHistory]],
    now: datetime,
    catalog: Catalog,
    rules: BillingRules = DEFAULT_RULES,
    *,
    window: timedelta = DEFAULT_OVERFLOW_WINDOW,
    auto_renew: bool = False,
    known: Mapping[tuple[datetime, datetime], Sequence[tuple[BudgetTarget, Forecast]]]
    | None = None,
    calls: Mapping[str, CallColumns] | None = None,
    planned: Mapping[str, Sequence[CapacityEvent]] | None = None,
) -> list[BudgetForecast]:
    """Every budget's forecast; each deployment is forecast once per distinct budget period
    (`known`: forecasts already made, by period bounds, e.g. for `cost … forecast`; `calls`:
    billable calls as columns by deployment id, when the histories carry none)."""
    by_period: dict[tuple[datetime, datetime], Sequence[tuple[BudgetTarget, Forecast]]] = dict(
        known or {}
    )
    out = []
    for budget in budgets:
        bounds = budget.bounds(now)
        if bounds not in by_period:
            by_period[bounds] = [
                (
                    target,
                    forecast(
                        h,
                        bounds,
                        now,
                        catalog,
                        rules,
                        window=window,
                        auto_renew=auto_renew,
                        calls=(calls or {}).get(h.deployment_id),
                        planned=(planned or {}).get(h.deployment_id, ()),
                    ),
                )
                for target, h in deployments
                if any(b.scope.matches(target) for b in budgets if b.bounds(now) == bounds)
            ]
        out.append(forecast_budget(budget, by_period[bounds], catalog, now))
    return out


def cumulative_spend(
    histories: Sequence[DeploymentHistory],
    start: datetime,
    until: datetime,
    catalog: Catalog,
    rules: BillingRules = DEFAULT_RULES,
    step: timedelta = timedelta(days=1),
) -> list[tuple[datetime, Decimal]]:
    """Spend since `start` at each `step` boundary up to `until` (for the spend chart), in USD.

    Accruals of adjacent windows add up exactly, so each point is exact.
    """
    start, until = ensure_aware(start), ensure_aware(until)
    points = [(start, Decimal(0))]
    total = Decimal(0)
    at = start
    while at < until:
        nxt = min(at + step, until)
        for h in histories:
            piece = accrue(h, at, nxt, catalog, rules)
            total += catalog.convert(piece.total, piece.currency, "USD")
        points.append((nxt, total))
        at = nxt
    return points


__all__ = [
    "DEFAULT_OVERFLOW_WINDOW",
    "BudgetForecast",
    "Forecast",
    "cumulative_spend",
    "forecast",
    "forecast_budget",
    "forecast_budgets",
    "projection_window",
    "run_state",
]
