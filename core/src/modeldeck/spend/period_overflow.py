"""The overflow spend of many deployments over a window from sums computed in SQL.

Calls are grouped per deployment by input-length bucket (bounded by every tier bound and max
input of the models involved), overflow flag and whether they reasoned, so each group lies in
one tier and is billable or not as a whole: pricing the groups is exact, identical to pricing
call by call, and reads a few rows per deployment instead of every call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from modeldeck.billing.overflow import CallGroup, OverflowTotal, bucket_bounds, price_groups
from modeldeck.catalog import Catalog
from modeldeck.errors import CatalogError
from modeldeck.store.spend_queries import grouped_calls

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Metered(Protocol):
    """What is needed of a deployment (a record or a row)."""

    @property
    def id(self) -> str: ...
    @property
    def deployed_model(self) -> str | None: ...
    @property
    def model(self) -> str: ...
    @property
    def mode(self) -> str: ...


def _max_input(catalog: Catalog, model: str) -> int | None:
    try:
        return catalog.model_info(catalog.resolve_model(model)).max_input
    except CatalogError:
        return None


def period_overflow(
    session: Session,
    deployments: Sequence[Metered],
    start: datetime,
    end: datetime,
    catalog: Catalog,
) -> dict[str, OverflowTotal]:
    """Each deployment's billable overflow calls with start <= at < end, priced (by id; absent
    when it has none). One grouped query for all deployments."""
    metered = {d.deployed_model: d for d in deployments if d.deployed_model}
    if not metered:
        return {}
    bounds = bucket_bounds(catalog, {(d.model, d.mode) for d in metered.values()})
    limits = {d.id: _max_input(catalog, d.model) for d in metered.values()}
    known = [m for m in limits.values() if m is not None]
    groups: dict[str, list[CallGroup]] = defaultdict(list)
    for row in grouped_calls(
        session, start, end, bounds, longer_than=min(known) if known else None
    ):
        dep = metered.get(row.deployed_model)
        if dep is not None:
            groups[dep.id].append(
                CallGroup(
                    overflow=row.overflow,
                    reasoned=row.reasoned,
                    calls=row.calls,
                    input_tokens=row.input_tokens,
                    output_tokens=row.output_tokens,
                    max_input_tokens=row.max_input_tokens,
                )
            )
    out = {}
    for dep in metered.values():
        if dep.id in groups:
            total = price_groups(groups[dep.id], dep.model, dep.mode, limits[dep.id], catalog)
            if total is not None:
                out[dep.id] = total
    return out
