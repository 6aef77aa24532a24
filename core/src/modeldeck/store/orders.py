"""Upfront orders and the timeline events each one fires once."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modeldeck.store.models import OrderRow, TimelineEventRow
from modeldeck.store.repo import audit, new_id


def insert_order_once(
    session: Session,
    *,
    deployment_id: str,
    kind: str,
    quantity: int,
    amount: Decimal | None,
    currency: str,
    ordered_at: datetime,
    expires_at: datetime | None,
    stops_at: datetime | None,
    released_at: datetime | None,
) -> OrderRow | None:
    """Store a deployment's order unless one is recorded already (a recovery re-runs deploys)."""
    if session.scalar(select(OrderRow.id).where(OrderRow.deployment_id == deployment_id)):
        return None
    row = OrderRow(
        id=new_id("ord"),
        deployment_id=deployment_id,
        kind=kind,
        quantity=quantity,
        amount=amount,
        currency=currency,
        status="active",
        ordered_at=ordered_at,
        expires_at=expires_at,
        stops_at=stops_at,
        released_at=released_at,
    )
    session.add(row)
    session.flush()
    return row


def newest_for(session: Session, deployment_id: str) -> OrderRow | None:
    """A deployment's newest order (the one a prepaid scale changes), None if it has none."""
    return session.scalars(
        select(OrderRow)
        .where(OrderRow.deployment_id == deployment_id)
        .order_by(OrderRow.ordered_at.desc())
    ).first()


def set_amount(session: Session, deployment_id: str, amount: Decimal, request_id: str) -> None:
    """The deployment's newest order costs `amount` now (a prepaid scale ran), audited."""
    row = newest_for(session, deployment_id)
    if row is None or row.amount == amount:
        return
    audit(
        session,
        actor="system",
        surface="system",
        action="order_repriced",
        subject=row.id,
        cost_estimate=amount,
        old=str(row.amount),
        new=str(amount),
        request=request_id,
    )
    row.amount = amount


def has_order(session: Session, deployment_id: str) -> bool:
    """True when the deployment has an order recorded (executed deploy or import)."""
    return bool(session.scalar(select(OrderRow.id).where(OrderRow.deployment_id == deployment_id)))


def open_orders(session: Session) -> list[OrderRow]:
    """Orders whose timeline has not finished (not released, not superseded by a renewal)."""
    return list(
        session.scalars(select(OrderRow).where(OrderRow.status.not_in(("released", "renewed"))))
    )


def insert_renewal(
    session: Session,
    *,
    order_id: str,
    previous: OrderRow,
    days: int,
    amount: Decimal | None,
    ordered_at: datetime,
) -> OrderRow | None:
    """Store a renewal of `previous` (its timeline moved `days` later) under `order_id`, once:
    a re-run renewal finds its row; the previous order stops firing its stop/release events."""
    if session.get(OrderRow, order_id) is not None:
        return None
    shift = timedelta(days=days)
    row = OrderRow(
        id=order_id,
        deployment_id=previous.deployment_id,
        kind=previous.kind,
        quantity=days,
        amount=amount,
        currency=previous.currency,
        status="active",
        ordered_at=ordered_at,
        expires_at=previous.expires_at + shift if previous.expires_at else None,
        stops_at=previous.stops_at + shift if previous.stops_at else None,
        released_at=previous.released_at + shift if previous.released_at else None,
    )
    previous.status = "renewed"
    session.add(row)
    session.flush()
    return row


def claim_timeline_event(session: Session, order_id: str, event: str, now: datetime) -> bool:
    """Record that `event` fired for the order; False if it already did (here or elsewhere)."""
    try:
        with session.begin_nested():
            session.add(TimelineEventRow(order_id=order_id, event=event, at=now))
    except IntegrityError:
        return False
    if event in ("stopped", "released"):
        session.execute(update(OrderRow).where(OrderRow.id == order_id).values(status=event))
    return True
