"""Prepaid orders at request time: a live one is ended in the console, never by an unpublish.

Model Studio refuses to release a live prepaid PTU instance through the API
(`PREPAID_UNSUBSCRIBE_REQUIRED`); modeldeck says so when the unpublish is asked for, quoting what
billing's cancellation rules would settle, instead of failing after the approvals.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from modeldeck.domain import DeploymentRecord
from modeldeck.errors import ConflictError, ValidationFailed
from modeldeck.money import format_amount
from modeldeck.store import orders as order_rows
from modeldeck.store.models import OrderRow
from modeldeck.timeutil import to_beijing, utcnow
from modeldeck.workflow.context import WorkflowContext

CONSOLE = "the Alibaba Cloud console (Expenses > Unsubscribe)"


def live_order(ctx: WorkflowContext, dep_id: str, now: datetime) -> OrderRow | None:
    """The deployment's prepaid order that has not expired yet, if any."""
    with ctx.store.session() as session:
        for row in order_rows.open_orders(session):
            if row.deployment_id == dep_id and row.expires_at is not None and row.expires_at > now:
                session.expunge(row)
                return row
    return None


def refuse_unpublish_of_live_prepaid(ctx: WorkflowContext, dep: DeploymentRecord) -> None:
    """Raise a clear refusal when `dep` still has a live prepaid order (quoting the settlement)."""
    from modeldeck.billing import settle_cancellation

    now = utcnow()
    order = live_order(ctx, dep.id, now)
    if order is None:
        return
    monthly = order.kind == "mu_monthly"
    days = order.quantity * (30 if monthly else 1)
    assert order.expires_at is not None  # live_order only returns orders with an expiry
    until = to_beijing(order.expires_at).strftime("%Y-%m-%d %H:%M Beijing time")
    if order.amount is None:  # an import whose price is not listed: nothing to settle against
        raise ConflictError(
            f"{dep.deployed_model or dep.id} has a live prepaid order (price not listed, until "
            f"{until}): Model Studio does not release prepaid capacity through the API, and "
            "modeldeck cannot quote its settlement without the price.",
            hint=f"Unsubscribe it in {CONSOLE}, then unpublish; or let the order expire.",
        )
    paid = Decimal(order.amount)
    elapsed = max(1, int((now - order.ordered_at).total_seconds()))
    try:
        c = settle_cancellation(
            paid,
            paid / order.quantity,
            elapsed,
            days,
            daily_divisor=30 if monthly else 1,
            rules=ctx.rules,
        )
        settlement = (
            f"cancelling now settles {format_amount(c.settled, order.currency)} "
            f"({c.billed_days} day(s) used at 1.2x the daily price) and refunds "
            f"{format_amount(c.refund, order.currency)}"
        )
    except ValidationFailed as exc:
        settlement = exc.message
    raise ConflictError(
        f"{dep.deployed_model or dep.id} has a live prepaid order (paid "
        f"{format_amount(paid, order.currency)}, until {until}): Model Studio does not release "
        f"prepaid capacity through the API. By billing's cancellation rules, {settlement}.",
        hint=f"Unsubscribe it in {CONSOLE}, then unpublish; or let the order run to its expiry.",
    )
