"""Upfront orders and the timeline events each one fires once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modeldeck.store.models import OrderRow, TimelineEventRow
from modeldeck.store.repo import new_id


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


def has_order(session: Session, deployment_id: str) -> bool:
    """True when the deployment has an order recorded (executed deploy or import)."""
    return bool(session.scalar(select(OrderRow.id).where(OrderRow.deployment_id == deployment_id)))


def open_orders(session: Session) -> list[OrderRow]:
    """Orders whose timeline has not finished (not yet released)."""
    return list(session.scalars(select(OrderRow).where(OrderRow.status != "released")))


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
