"""Orders and timelines: the upfront orders executed deploys paid for, and each one's Beijing
timeline (24 h and 2 h before expiry, stopped, released), every event fired once on any replica."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from modeldeck.domain import DeploySpec, Estimate
from modeldeck.events import Order, OrderRecorded, OrderTimelineEvent, TimelineKind
from modeldeck.store import audit_log
from modeldeck.store import orders as order_rows
from modeldeck.store.models import OrderRow
from modeldeck.workflow.context import WorkflowContext

TIMELINE_EVENTS: tuple[tuple[TimelineKind, str, timedelta], ...] = (
    ("expires_in_24h", "expires_at", timedelta(hours=-24)),
    ("expires_in_2h", "expires_at", timedelta(hours=-2)),
    ("stopped", "stops_at", timedelta(0)),
    ("released", "released_at", timedelta(0)),
)


def order_model(row: OrderRow) -> Order:
    return Order(
        id=row.id,
        deployment_id=row.deployment_id,
        kind=row.kind,
        quantity=row.quantity,
        amount=row.amount,
        currency=row.currency,
        status=row.status,
        ordered_at=row.ordered_at,
        expires_at=row.expires_at,
        stops_at=row.stops_at,
        released_at=row.released_at,
    )


def record_order(
    ctx: WorkflowContext, dep_id: str, spec: DeploySpec, estimate: Estimate, now: datetime
) -> None:
    """Store the upfront order an executed deploy paid for, with its Beijing timeline."""
    from modeldeck.billing import order_timeline

    upfront = spec.billing == "upfront"
    quantity = (spec.days or 1) if upfront else (spec.months or 1)
    # decision: a month of an MU package runs 30 days on the same Beijing calendar
    timeline = order_timeline(now, quantity if upfront else 30 * quantity)
    with ctx.store.session() as session:
        row = order_rows.insert_order_once(
            session,
            deployment_id=dep_id,
            kind="ptu_daily" if upfront else "mu_monthly",
            quantity=quantity,
            amount=Decimal(estimate.total),
            currency=estimate.currency,
            ordered_at=now,
            expires_at=timeline.expires_at,
            stops_at=timeline.stops_at,
            released_at=timeline.released_at,
        )
        event = OrderRecorded(order=order_model(row)) if row is not None else None
    if event is not None:
        ctx.emit(event)


PREPAID = ("upfront", "monthly")


def priced_over_order(ctx: WorkflowContext, dep_id: str, target: DeploySpec) -> DeploySpec:
    """A prepaid target with its order's term (days or months), so its estimate is the order's."""
    if target.billing not in PREPAID:
        return target
    with ctx.store.session() as session:
        newest = order_rows.newest_for(session, dep_id)
        quantity = newest.quantity if newest is not None else 1
    if target.billing == "upfront":
        return target.model_copy(update={"days": quantity})
    return target.model_copy(update={"months": quantity})


def reprice_order(ctx: WorkflowContext, dep_id: str, estimate: Estimate, request_id: str) -> None:
    """After a prepaid scale ran: the deployment's order now costs the approved estimate."""
    amount = Decimal(estimate.total)
    with ctx.store.session() as session:
        order_rows.set_amount(session, dep_id, amount, request_id)


def current_order(ctx: WorkflowContext, dep_id: str) -> Order | None:
    """The deployment's prepaid order still in force (the latest-expiring open one), if any."""
    with ctx.store.session() as session:
        rows = [o for o in order_rows.open_orders(session) if o.deployment_id == dep_id]
        rows.sort(key=lambda o: o.expires_at or o.ordered_at)
        return order_model(rows[-1]) if rows else None


def record_renewal(
    ctx: WorkflowContext,
    request_id: str,
    dep_id: str,
    days: int,
    amount: Decimal | None,
    now: datetime,
) -> None:
    """Store what a renewal bought: a new order whose Beijing timeline runs `days` past the
    previous order's (exactly once per request; the previous order no longer stops or releases)."""
    with ctx.store.session() as session:
        rows = [o for o in order_rows.open_orders(session) if o.deployment_id == dep_id]
        if not rows:
            return
        previous = max(rows, key=lambda o: o.expires_at or o.ordered_at)
        row = order_rows.insert_renewal(
            session,
            order_id=f"{RENEWAL_PREFIX}{request_id}"[:40],
            previous=previous,
            days=days,
            amount=amount,
            ordered_at=now,
        )
        event = OrderRecorded(order=order_model(row)) if row is not None else None
    if event is not None:
        ctx.emit(event)


AUTO_RENEW_LEAD = timedelta(hours=24)
RENEWAL_PREFIX = "ord-"


def auto_renew_of(ctx: WorkflowContext, order: Order) -> bool:
    """Whether the order renews itself: the renewal's `auto_renew` (kept from the order before
    when not given), else the deploy's `auto_renew`."""
    if order.id.startswith(RENEWAL_PREFIX):
        request_id = order.id[len(RENEWAL_PREFIX) :]
        if request_id.startswith("auto-"):
            return True  # renewed by auto-renewal: it stays on
        renew = ctx.get_request(request_id).renew
        if renew is not None and renew.auto_renew is not None:
            return renew.auto_renew
        return False
    dep = ctx.get_deployment(order.deployment_id)
    if dep.request_id is None:
        return False
    spec = ctx.get_request(dep.request_id).deploy
    return bool(spec is not None and spec.auto_renewal)


def auto_renew_due(ctx: WorkflowContext, order: Order, now: datetime) -> bool:
    """Renew an auto-renewing PTU order `AUTO_RENEW_LEAD` before it expires, exactly once.

    The provider call carries a key derived from the order (a repeat reuses its operation), the
    renewal order's id comes from that key (stored once), and the `auto_renewed` timeline event
    is claimed like the others, so several replicas announce it once. True when fired here.
    """
    if order.kind != "ptu_daily" or order.expires_at is None:
        return False
    if not (order.expires_at - AUTO_RENEW_LEAD <= now < order.expires_at):
        return False
    if not auto_renew_of(ctx, order):
        return False
    dep = ctx.get_deployment(order.deployment_id)
    key = "auto-" + hashlib.sha256(order.id.encode()).hexdigest()[:16]
    op = ctx.provider.renew(dep.deployed_model or dep.id, order.quantity, True, idempotency_key=key)
    if not op.succeeded:
        ctx.provider.wait_for_operation(dep.deployed_model or dep.id, op.operation_id)
    # the same amount again (None when the import's price is not listed: flagged, never $0)
    amount = Decimal(order.amount) if order.amount is not None else None
    record_renewal(ctx, key, dep.id, order.quantity, amount, now)
    event = OrderTimelineEvent(deployment=dep, order=order, event="auto_renewed", at=now)
    with ctx.store.session() as session:
        claimed = order_rows.claim_timeline_event(session, order.id, "auto_renewed", now)
        if claimed:
            audit_log.record_event(session, event)
    if claimed:
        ctx.emit(event)
    return claimed


def drive_timelines(ctx: WorkflowContext, now: datetime) -> list[tuple[str, str]]:
    """Fire every timeline event that is due; returns (order id, event) for those fired here."""
    from modeldeck.errors import ModeldeckRuntimeError

    fired: list[tuple[str, str]] = []
    with ctx.store.session() as session:
        open_orders = [order_model(o) for o in order_rows.open_orders(session)]
    for order in open_orders:
        try:
            if auto_renew_due(ctx, order, now):
                fired.append((order.id, "auto_renewed"))
                continue  # renewed: the new order carries the timeline on
        except ModeldeckRuntimeError:
            pass  # Model Studio unreachable: tried again next pass, well before expiry
        for kind, attr, offset in TIMELINE_EVENTS:
            when = getattr(order, attr)
            if when is None or now < when + offset:
                continue
            event = OrderTimelineEvent(
                deployment=ctx.get_deployment(order.deployment_id), order=order, event=kind, at=now
            )
            with ctx.store.session() as session:
                claimed = order_rows.claim_timeline_event(session, order.id, kind, now)
                if claimed:
                    audit_log.record_event(session, event)
            if not claimed:
                continue  # already fired, here or on another replica
            fired.append((order.id, kind))
            ctx.emit(event)
    return fired
