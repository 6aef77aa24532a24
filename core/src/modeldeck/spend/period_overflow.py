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
from modeldeck.store.spend_queries import GroupedCalls, grouped_calls
from modeldeck.timeutil import ensure_aware

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
    @property
    def created_at(self) -> datetime: ...


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
    when it has none). One grouped query for all deployments, and one per deployment of a
    Model Code deployed again after an unpublish (rare): a call of a reused code belongs to the
    row created last before it, as in `spend.histories`."""
    by_code: dict[str, list[Metered]] = defaultdict(list)
    for d in deployments:
        if d.deployed_model:
            by_code[d.deployed_model].append(d)
    if not by_code:
        return {}
    metered = [d for rows in by_code.values() for d in rows]
    bounds = bucket_bounds(catalog, {(d.model, d.mode) for d in metered})
    limits = {d.id: _max_input(catalog, d.model) for d in metered}
    known = [m for m in limits.values() if m is not None]
    longer_than = min(known) if known else None
    groups: dict[str, list[CallGroup]] = defaultdict(list)

    def add(dep: Metered, row: GroupedCalls) -> None:
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

    for row in grouped_calls(session, start, end, bounds, longer_than=longer_than):
        rows = by_code.get(row.deployed_model)
        if rows is not None and len(rows) == 1:
            add(rows[0], row)
    for code, rows in by_code.items():
        if len(rows) == 1:
            continue
        rows.sort(key=lambda d: ensure_aware(d.created_at))
        for dep, (lo, hi) in zip(rows, _row_windows(rows, start, end), strict=True):
            if lo < hi:
                for row in grouped_calls(
                    session, lo, hi, bounds, longer_than=longer_than, deployed_model=code
                ):
                    add(dep, row)
    out = {}
    for dep in metered:
        if dep.id in groups:
            total = price_groups(groups[dep.id], dep.model, dep.mode, limits[dep.id], catalog)
            if total is not None:
                out[dep.id] = total
    return out


def _row_windows(
    rows: list[Metered], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The part of [start, end) whose calls belong to each row of one reused code (rows by
    creation): from its creation (the first row: from the start) to the next row's creation."""
    out = []
    for k, _ in enumerate(rows):
        lo = start if k == 0 else max(start, ensure_aware(rows[k].created_at))
        hi = end if k == len(rows) - 1 else min(end, ensure_aware(rows[k + 1].created_at))
        out.append((lo, hi))
    return out
