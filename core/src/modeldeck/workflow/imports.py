"""Imports: the order of a prepaid deployment bought in the console, priced from the catalog.

A deployment made outside modeldeck that is prepaid (an MU monthly package, a PTU upfront
reservation) was paid for at the console; modeldeck records that order so `cost` shows it. The
price is the catalog's for the capacity and days the provider reports; when the catalog does not
list it the order is stored without an amount and the deployment carries a loud price note —
never $0. The timeline follows the provider's expiry (`pre_paid_gmt_expired`) when it gives one,
else the billing calendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from modeldeck.domain import DeploySpec
from modeldeck.errors import CatalogError, ValidationFailed
from modeldeck.events import OrderRecorded
from modeldeck.store import orders as order_rows
from modeldeck.store.models import DeploymentRow
from modeldeck.workflow.context import WorkflowContext
from modeldeck.workflow.orders import order_model

if TYPE_CHECKING:
    from modeldeck.provider.models import DeploymentInfo


def prepaid_days(info: DeploymentInfo) -> int | None:
    """The days a console purchase paid for (`pre_paid_info.duration`), None if not prepaid."""
    prepaid = (
        info.charge_type == "pre_paid"
        or (info.model_extra or {}).get("billing_method") == "PRE_PAY"
    )
    if not prepaid:
        return None
    days = info.pre_paid_info.duration if info.pre_paid_info else None
    if days and days > 0:
        return days
    if info.pre_paid_gmt_expired and info.gmt_create:  # no duration: the days it runs, rounded up
        return max(1, -(-(info.pre_paid_gmt_expired - info.gmt_create) // timedelta(days=1)))
    return 1  # decision: one day at least, so a purchase is never priced as nothing


def _spec(row: DeploymentRow, days: int, months: int) -> DeploySpec:
    upfront = row.billing == "upfront"
    return DeploySpec(
        model=row.model,
        plan="ptu" if row.plan == "ptu" else "mu",
        mode="thinking" if row.mode == "thinking" else "instruct",
        billing="upfront" if upfront else "monthly",
        units=row.units,
        input_tpm=row.input_tpm,
        output_tpm=row.output_tpm,
        days=days if upfront else None,
        months=None if upfront else months,
    )


def record_import_order(
    ctx: WorkflowContext, dep_id: str, info: DeploymentInfo, now: datetime
) -> bool:
    """Record the console order of an imported prepaid deployment once; True if recorded now.

    Deferred (False) while the provider still reports no capacity (a reservation being created):
    the next pass prices it from the capacity it then reports.
    """
    from modeldeck.billing import estimate, order_timeline

    days = prepaid_days(info)
    if days is None:
        return False
    rules = ctx.rules
    with ctx.store.session() as session:
        row = session.get(DeploymentRow, dep_id)
        if row is None or row.billing not in ("upfront", "monthly"):
            return False
        if order_rows.has_order(session, dep_id):
            return False
        if not (row.units if row.plan == "mu" else row.input_tpm):
            return False
        upfront = row.billing == "upfront"
        # decision: an MU package of N days is ceil(N / 30) monthly periods (30-day months)
        months = -(-days // rules.days_per_month)
        quantity = days if upfront else months
        amount: Decimal | None
        currency = "USD"
        note: str | None = None
        try:
            est = estimate(_spec(row, days, months), ctx.catalog, rules)
            amount, currency = Decimal(est.total), est.currency
        except (CatalogError, ValidationFailed) as exc:
            amount = None
            note = f"price unknown: {exc}"  # the message and the override to set
        ordered = info.gmt_create or now
        expires = info.pre_paid_gmt_expired
        if expires is not None:
            stops = expires + rules.stop_delay
            released = stops + rules.release_delay
        else:
            timeline = order_timeline(ordered, days if upfront else 30 * months, rules)
            expires, stops, released = timeline.expires_at, timeline.stops_at, timeline.released_at
        order = order_rows.insert_order_once(
            session,
            deployment_id=dep_id,
            kind="ptu_daily" if upfront else "mu_monthly",
            quantity=quantity,
            amount=amount,
            currency=currency,
            ordered_at=ordered,
            expires_at=expires,
            stops_at=stops,
            released_at=released,
        )
        if order is None:
            return False
        row.price_note = note
        event = OrderRecorded(order=order_model(order), actor="reconciler")
    ctx.emit(event)
    return True
