"""Accrual: what a deployment cost between two instants, by line item, from its history.

Pure functions over a `DeploymentHistory` (capacity events, prepaid orders, overflow calls):
- reserved time (hourly billing): each capacity segment billed per started minute, minutes
  anchored at the segment's start, and a minute counted in the window where it starts, so
  accruals over adjacent windows add up exactly to the accrual over their union;
- prepaid orders (PTU upfront, MU monthly): paid in full at order time; a cancellation within the
  first 30 days refunds, at cancellation time, what the 1.2x settlement does not keep;
- overflow calls: each billable call at the pay-as-you-go price of its input-length tier.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modeldeck.billing.components import components
from modeldeck.billing.overflow import (
    DeploymentOverflow,
    OverflowDay,
    OverflowTotal,
    is_billable_overflow,
    rollup_overflow,
)
from modeldeck.billing.rules import DEFAULT_RULES, BillingRules, money_context
from modeldeck.billing.timeline import DAY_SECONDS, settle_cancellation
from modeldeck.catalog import Catalog
from modeldeck.catalog.exact import quotient
from modeldeck.domain import (
    BillingMethod,
    DeploySpec,
    EstimateLine,
    Mode,
    Plan,
    Usage,
    capacity_text,
)
from modeldeck.errors import PriceNotListed, ValidationFailed
from modeldeck.money import DecimalStr, format_amount
from modeldeck.timeutil import ensure_aware, iso, to_beijing

EventKind = Literal["created", "scaled", "stopped", "resumed", "unpublished", "released"]
LineKind = Literal["reserved", "upfront_order", "refund", "overflow"]
_ENDS = ("unpublished", "released")


class Capacity(BaseModel):
    """PTU tokens per minute or MU units."""

    model_config = ConfigDict(frozen=True)

    input_tpm: int | None = None
    output_tpm: int | None = None
    thinking_output_tpm: int | None = None
    units: int | None = None

    def describe(self) -> str:
        """In the words every surface uses (`domain.capacity_text`)."""
        plan = "mu" if self.units is not None else "ptu"
        return capacity_text(
            plan, self.units, self.input_tpm, self.output_tpm, self.thinking_output_tpm
        )


class CapacityEvent(Capacity):
    """A change in what is reserved: created/scaled carry the (absolute) new capacity."""

    at: datetime
    kind: EventKind


class PrepaidOrder(Capacity):
    """A prepaid order (PTU upfront or MU monthly) of `days` billed days.

    `paid` is what was charged (priced from the catalog when None); `cancelled_at` records an
    early cancellation.
    """

    ordered_at: datetime
    days: int = Field(gt=0)
    paid: DecimalStr | None = None
    cancelled_at: datetime | None = None


class OverflowCall(BaseModel):
    """One call's usage; billed per token when flagged overflow or longer than the max input."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    reasoning_tokens: int = Field(default=0, ge=0)
    overflow: bool = True


class DeploymentHistory(BaseModel):
    """Everything accrual needs about one deployment."""

    deployment_id: str
    model: str
    plan: Plan
    mode: Mode = "instruct"
    billing: BillingMethod = "hourly"
    events: list[CapacityEvent] = Field(default_factory=list)
    orders: list[PrepaidOrder] = Field(default_factory=list)
    calls: list[OverflowCall] = Field(default_factory=list)


class AccrualLine(EstimateLine):
    """An estimate line with its kind, for cost tables (reserved, upfront_order, refund...).

    A line whose price the catalog does not list is flagged (`price_known` False, amount 0 and
    left out of every total, `override` says what to set) instead of failing the whole report.
    """

    kind: LineKind
    currency: str = "USD"
    price_known: bool = True
    unpriced_tokens: int | None = None
    override: str | None = None


class Accrual(BaseModel):
    """What one deployment cost in [start, end), exact, by line item."""

    deployment_id: str
    start: datetime
    end: datetime
    currency: str = "USD"
    total: DecimalStr
    lines: list[AccrualLine] = Field(default_factory=list)
    overflow_days: list[dict[str, str | int]] = Field(default_factory=list)

    @property
    def unpriced(self) -> list[AccrualLine]:
        """The flagged lines whose price is not listed (left out of `total`)."""
        return [line for line in self.lines if not line.price_known]

    def by_kind(self) -> dict[str, Decimal]:
        """Subtotals per line kind (priced lines only)."""
        out: dict[str, Decimal] = {}
        for line in self.lines:
            if not line.price_known:
                continue
            out[line.kind] = out.get(line.kind, Decimal(0)) + line.amount
        return out

    def to_usage(self) -> Usage:
        return Usage(
            deployment_id=self.deployment_id,
            total=self.total,
            currency=self.currency,
            lines=[
                EstimateLine(**line.model_dump(exclude={"kind", "currency"})) for line in self.lines
            ],
        )


def unpriced_line(
    kind: LineKind,
    description: str,
    override: str,
    *,
    quantity: Decimal | None = None,
    unit: str | None = None,
    unpriced_tokens: int | None = None,
) -> AccrualLine:
    """A flagged line for something the catalog does not price (never $0 in any total)."""
    return AccrualLine(
        kind=kind,
        description=description,
        amount=Decimal(0),
        quantity=quantity,
        unit=unit,
        price_known=False,
        unpriced_tokens=unpriced_tokens,
        override=override,
    )


def started_minutes(
    seg_start: datetime, seg_end: datetime, lo: datetime, hi: datetime, step_seconds: int = 60
) -> int:
    """Billing steps of a segment [seg_start, seg_end) whose start falls in [lo, hi).

    Steps are anchored at `seg_start`; the last, partial step counts as a whole one.
    """
    a, b = max(seg_start, lo), min(seg_end, hi)
    if b <= a:
        return 0
    step = timedelta(seconds=step_seconds)

    def steps_before(t: datetime) -> int:  # steps starting strictly before t
        return -(-(t - seg_start) // step)

    return steps_before(b) - steps_before(a)


def _spec(history: DeploymentHistory, cap: Capacity, billing: BillingMethod) -> DeploySpec:
    return DeploySpec(
        model=history.model,
        plan=history.plan,
        mode=history.mode,
        billing=billing,
        input_tpm=cap.input_tpm,
        output_tpm=cap.output_tpm,
        thinking_output_tpm=cap.thinking_output_tpm,
        units=cap.units,
    )


class RateBook:
    """Each distinct (model, capacity, billing)'s priced components and rate per billing
    period, computed once: a cost report over thousands of deployments prices a few specs,
    not one validated spec per segment. Holds one catalog; give a new book for another."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._known: dict[tuple[Any, ...], tuple[str, Decimal] | PriceNotListed] = {}

    def rate(
        self, history: DeploymentHistory, cap: Capacity, billing: BillingMethod
    ) -> tuple[str, Decimal]:
        """(currency, rate per period) of the first component's currency; PriceNotListed."""
        key = (
            history.model,
            history.plan,
            history.mode,
            billing,
            cap.input_tpm,
            cap.output_tpm,
            cap.thinking_output_tpm,
            cap.units,
        )
        found = self._known.get(key)
        if found is None:
            try:
                found = _rate(history, cap, billing, self.catalog)
            except PriceNotListed as exc:
                found = exc
            self._known[key] = found
        if isinstance(found, PriceNotListed):
            raise found
        return found


def _rate(
    history: DeploymentHistory, cap: Capacity, billing: BillingMethod, catalog: Catalog
) -> tuple[str, Decimal]:
    parts = components(_spec(history, cap, billing), catalog, billing)
    currency = parts[0].currency
    return currency, sum(
        (p.quantity * catalog.convert(p.rate, p.currency, currency) for p in parts), Decimal(0)
    )


def _capacity(event: CapacityEvent, deployment: str) -> Capacity:
    cap = Capacity(**event.model_dump(include=set(Capacity.model_fields)))
    if cap.units is None and cap.input_tpm is None:
        raise ValidationFailed(
            f"{deployment}: the {event.kind} event at {iso(event.at)} carries no capacity.",
            hint="created and scaled events give the new absolute capacity (units or TPM).",
        )
    return cap


def _segments(history: DeploymentHistory) -> list[tuple[datetime, datetime | None, Capacity]]:
    """Running intervals [since, until) with their capacity (until None: still running)."""
    out: list[tuple[datetime, datetime | None, Capacity]] = []
    capacity: Capacity | None = None
    since: datetime | None = None  # None while stopped
    for event in sorted(history.events, key=lambda e: ensure_aware(e.at)):
        at = ensure_aware(event.at)
        if event.kind == "created":
            if capacity is not None:
                raise ValidationFailed(f"{history.deployment_id}: created twice (at {iso(at)}).")
            capacity, since = _capacity(event, history.deployment_id), at
            continue
        if capacity is None:
            raise ValidationFailed(
                f"{history.deployment_id}: a {event.kind} event at {iso(at)} comes before "
                "'created'.",
                hint="Record the created event with its capacity first.",
            )
        if since is not None and event.kind in ("scaled", "stopped", *_ENDS):
            out.append((since, at, capacity))
            since = at if event.kind == "scaled" else None
        if event.kind == "scaled":
            capacity = _capacity(event, history.deployment_id)
        elif event.kind == "resumed" and since is None:
            since = at
        elif event.kind in _ENDS:
            return out
    if since is not None and capacity is not None:
        out.append((since, None, capacity))
    return out


def accrue(
    history: DeploymentHistory,
    start: datetime,
    end: datetime,
    catalog: Catalog,
    rules: BillingRules = DEFAULT_RULES,
    *,
    overflow: OverflowTotal | None = None,
    rates: RateBook | None = None,
) -> Accrual:
    """What the deployment cost in [start, end), by line item (exact; rounded only to show).

    `overflow`: the window's billable calls already priced from grouped sums (`price_groups`),
    for a history loaded without calls; its accrual then has no `overflow_days`. `rates`: a
    `RateBook` of `catalog` shared by the accruals of one report (each spec priced once).
    """
    start, end = ensure_aware(start), ensure_aware(end)
    if end < start:
        raise ValidationFailed("The accrual window ends before it starts.")
    if overflow is not None and history.calls:
        raise ValidationFailed("Give the overflow calls either in the history or summed.")
    if rates is None or rates.catalog is not catalog:
        rates = RateBook(catalog)
    with localcontext(money_context()):
        return _accrue(history, start, end, catalog, rules, overflow, rates)


def _accrue(
    history: DeploymentHistory,
    start: datetime,
    end: datetime,
    catalog: Catalog,
    rules: BillingRules,
    summed: OverflowTotal | None,
    rates: RateBook,
) -> Accrual:
    model = catalog.resolve_model(history.model)
    history = history.model_copy(update={"model": model})
    info = catalog.model_info(model)
    lines: list[AccrualLine] = []
    if history.billing == "hourly":
        lines.extend(_reserved_lines(history, start, end, rules, rates))
    else:
        lines.extend(_order_lines(history, start, end, rules, rates))
    calls = [
        c
        for c in history.calls
        if start <= ensure_aware(c.at) < end
        and is_billable_overflow(c.overflow, c.input_tokens, info.max_input)
    ]
    days: list[OverflowDay] = []
    if calls:
        batch = DeploymentOverflow(
            deployment=history.deployment_id,
            model=model,
            mode=history.mode,
            at=[int(ensure_aware(c.at).timestamp() // 1) for c in calls],
            input_tokens=[c.input_tokens for c in calls],
            output_tokens=[c.output_tokens for c in calls],
            reasoning_tokens=[c.reasoning_tokens for c in calls],
        )
        tokens_in = sum(c.input_tokens for c in calls)
        tokens_out = sum(c.output_tokens for c in calls)
        try:
            days = rollup_overflow([batch], catalog)
        except PriceNotListed as exc:
            summed = OverflowTotal(
                calls=len(calls),
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                amount=Decimal(0),
                currency="USD",
                unpriced=exc.hint or exc.message,
            )
        else:
            summed = OverflowTotal(
                calls=len(calls),
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                amount=sum((d.amount for d in days), Decimal(0)),
                currency=days[0].currency,
            )
    if summed is not None and summed.unpriced is not None:
        tokens = summed.input_tokens + summed.output_tokens
        lines.append(
            unpriced_line(
                "overflow",
                f"price not listed: {tokens:,} tokens unpriced ({summed.calls:,} overflow calls, "
                f"{summed.input_tokens:,} input / {summed.output_tokens:,} output tokens)",
                summed.unpriced,
                quantity=Decimal(summed.calls),
                unit="call",
                unpriced_tokens=tokens,
            )
        )
    elif summed is not None:
        lines.append(
            AccrualLine(
                kind="overflow",
                description=f"Overflow calls at pay-as-you-go prices ({summed.calls:,} calls, "
                f"{summed.input_tokens:,} input / "
                f"{summed.output_tokens:,} output tokens)",
                amount=summed.amount,
                quantity=Decimal(summed.calls),
                unit="call",
                currency=summed.currency,
            )
        )
    currencies = {line.currency for line in lines if line.price_known}
    currency = currencies.pop() if len(currencies) == 1 else "USD"
    for i, line in enumerate(lines):
        if line.currency != currency:
            lines[i] = line.model_copy(
                update={
                    "amount": catalog.convert(line.amount, line.currency, currency),
                    "currency": currency,
                }
            )
    return Accrual(
        deployment_id=history.deployment_id,
        start=start,
        end=end,
        currency=currency,
        total=sum((line.amount for line in lines if line.price_known), Decimal(0)),
        lines=lines,
        overflow_days=[d.as_dict() for d in days],
    )


def _reserved_lines(
    history: DeploymentHistory,
    start: datetime,
    end: datetime,
    rules: BillingRules,
    rates: RateBook,
) -> Iterable[AccrualLine]:
    step = rules.time_granularity_seconds
    for seg_start, seg_end, cap in _segments(history):
        minutes_steps = started_minutes(seg_start, seg_end or end, start, end, step)
        if minutes_steps == 0:
            continue
        minutes = minutes_steps * step // 60
        shown_start = iso(to_beijing(max(seg_start, start)))
        try:
            currency, per_hour = rates.rate(history, cap, "hourly")
        except PriceNotListed as exc:
            yield unpriced_line(
                "reserved",
                f"price not listed: {minutes:,} minutes of reserved {cap.describe()} unpriced "
                f"(from {shown_start})",
                exc.hint or exc.message,
                quantity=Decimal(minutes),
                unit="minute",
            )
            continue
        shown_end = iso(to_beijing(min(seg_end or end, end)))
        yield AccrualLine(
            kind="reserved",
            description=f"Reserved {cap.describe()} from {iso(to_beijing(max(seg_start, start)))} "
            f"to {shown_end}",
            amount=quotient(per_hour * minutes, 60),
            quantity=Decimal(minutes),
            unit="minute",
            rate=per_hour,
            rate_unit=f"{currency} per hour",
            periods=Decimal(minutes),
            period_unit="minute",
            currency=currency,
        )


def _order_lines(
    history: DeploymentHistory,
    start: datetime,
    end: datetime,
    rules: BillingRules,
    rates: RateBook,
) -> Iterable[AccrualLine]:
    monthly = history.billing == "monthly"
    divisor = rules.days_per_month if monthly else 1
    for order in history.orders:
        ordered = ensure_aware(order.ordered_at)
        try:
            currency, per_period = rates.rate(history, order, history.billing)
        except PriceNotListed as exc:
            if start <= ordered < end:
                yield unpriced_line(
                    "upfront_order",
                    f"price not listed: prepaid order of {order.days} day(s), "
                    f"{order.describe()}, placed {iso(to_beijing(ordered))}, unpriced"
                    + (f" (paid {order.paid})" if order.paid is not None else ""),
                    exc.hint or exc.message,
                    quantity=Decimal(order.days),
                    unit="day",
                )
            continue
        paid = order.paid if order.paid is not None else quotient(per_period * order.days, divisor)
        if start <= ordered < end:
            yield AccrualLine(
                kind="upfront_order",
                description=f"Prepaid order of {order.days} day(s), {order.describe()}, "
                f"placed {iso(to_beijing(ordered))}",
                amount=paid,
                quantity=Decimal(order.days),
                unit="day",
                rate=per_period,
                rate_unit=f"{currency} per {'month' if monthly else 'day'}",
                currency=currency,
            )
        if order.cancelled_at is not None and start <= ensure_aware(order.cancelled_at) < end:
            elapsed = ensure_aware(order.cancelled_at) - ordered
            seconds = -(-elapsed // timedelta(seconds=1))
            settlement = settle_cancellation(
                paid, per_period, seconds, order.days, daily_divisor=divisor, rules=rules
            )
            yield AccrualLine(
                kind="refund",
                description="Refund of the order placed "
                f"{iso(to_beijing(ordered))}, cancelled after "
                f"{settlement.billed_days} day(s) (used days re-billed at 1.2x: "
                f"{format_amount(settlement.settled, currency)})",
                amount=-settlement.refund,
                quantity=Decimal(settlement.billed_days),
                unit="day",
                currency=currency,
            )


__all__ = [
    "DAY_SECONDS",
    "Accrual",
    "AccrualLine",
    "Capacity",
    "CapacityEvent",
    "DeploymentHistory",
    "OverflowCall",
    "PrepaidOrder",
    "RateBook",
    "accrue",
    "started_minutes",
    "unpriced_line",
]
