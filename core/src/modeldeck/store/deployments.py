"""Deployment rows: the one mapping from the provider's view (and a request's spec) to a row."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modeldeck.store.models import DeploymentRow
from modeldeck.store.repo import compare_and_set, new_id

if TYPE_CHECKING:
    from modeldeck.domain import DeploySpec
    from modeldeck.provider.models import DeploymentInfo

CAPACITY_FIELDS = ("units", "input_tpm", "output_tpm")
ENDED = frozenset({"DELETING", "DELETED"})


def capacity_of(info: DeploymentInfo) -> dict[str, int | None]:
    """The capacity the provider reports, in the store's columns (what drift compares)."""
    if info.plan == "ptu":
        ptu = info.ptu_capacity
        return {
            "input_tpm": ptu.input_tpm if ptu else None,
            "output_tpm": ptu.output_tpm if ptu else None,
        }
    return {"units": info.capacity}


def base_model(info: DeploymentInfo) -> str:
    """The base model a provider deployment runs (lower case, for matching requests)."""
    return str(info.model_name or info.base_model or "").lower()


def billing_of(info: DeploymentInfo) -> str:
    """How the provider bills it: PTU prepaid is `upfront`, an MU prepaid package `monthly`."""
    prepaid = (
        info.charge_type == "pre_paid"
        or (info.model_extra or {}).get("billing_method") == "PRE_PAY"
    )
    if not prepaid:
        return "hourly"
    return "upfront" if info.is_ptu else "monthly"


def row_fields(info: DeploymentInfo, spec: DeploySpec | None = None) -> dict[str, Any]:
    """Every column of a deployment row, from the provider's answer.

    Where modeldeck made the deployment, the request's spec says what was asked (name, billing
    method, mode, capacity and limits as approved); for an import, the provider's view is all
    there is. Executions and imports build rows through this one function.
    """
    ptu = info.ptu_capacity
    fields: dict[str, Any] = {
        "deployed_model": info.deployed_model,
        "name": info.name,
        "model": str(info.model_name or info.base_model or info.deployed_model),
        "plan": "ptu" if info.is_ptu else "mu",
        # PTU creates carry no enable_thinking: a thinking output quota says thinking mode
        "mode": (
            "thinking"
            if info.enable_thinking or (ptu is not None and ptu.thinking_output_tpm)
            else "instruct"
        ),
        "billing": billing_of(info),
        "status": str(info.status),
        "units": info.capacity if info.plan != "ptu" else None,
        "input_tpm": ptu.input_tpm if ptu else None,
        "output_tpm": ptu.output_tpm if ptu else None,
        "thinking_output_tpm": ptu.thinking_output_tpm if ptu else None,
        "rpm_limit": info.rpm_limit,
        "tpm_limit": info.tpm_limit,
        "provider_data": info.model_dump(mode="json"),
    }
    if spec is not None:
        fields.update(
            name=spec.name,
            model=spec.model,
            plan=spec.plan,
            mode=spec.mode,
            billing=spec.billing,
            units=spec.units,
            input_tpm=spec.input_tpm,
            output_tpm=spec.output_tpm,
            thinking_output_tpm=spec.thinking_output_tpm,
            rpm_limit=spec.rpm_limit,
            tpm_limit=spec.tpm_limit,
            tags=dict(spec.tags),
        )
    return fields


def record_executed_deploy(
    session: Session, info: DeploymentInfo, spec: DeploySpec, request_id: str, now: datetime
) -> str:
    """Store a request's deployment, or adopt it when a recovery or import got there first.

    Only a live row of the same Model Code is adopted. A row whose deployment ended (unpublished,
    DELETING/DELETED) is an earlier deployment of a code now deployed again: it is closed and the
    new deployment gets a row of its own, so it is listed and billed.
    """
    existing = session.scalar(
        select(DeploymentRow).where(
            DeploymentRow.deployed_model == info.deployed_model,
            DeploymentRow.deleted_at.is_(None),
        )
    )
    if existing is not None and existing.status not in ENDED:
        existing.request_id = request_id
        existing.imported = False
        existing.tags = dict(spec.tags)
        return existing.id
    if existing is not None:  # the earlier deployment of this code is gone at the provider
        existing.status = "DELETED"
        existing.deleted_at = now
        existing.updated_at = now
        session.flush()
    dep_id = new_id("dep")
    session.add(
        DeploymentRow(
            id=dep_id,
            request_id=request_id,
            imported=False,
            created_at=now,
            updated_at=now,
            **row_fields(info, spec),
        )
    )
    return dep_id


def insert_imported(session: Session, info: DeploymentInfo, now: datetime) -> str | None:
    """Store a deployment made outside modeldeck; None if its Model Code is known already."""
    dep_id = new_id("dep")
    try:
        with session.begin_nested():
            session.add(
                DeploymentRow(
                    id=dep_id, imported=True, created_at=now, updated_at=now, **row_fields(info)
                )
            )
    except IntegrityError:
        return None  # another replica (or the executor) recorded it first
    return dep_id


def apply_change(
    session: Session, dep_id: str, info: DeploymentInfo, now: datetime, **capacity: int | None
) -> str | None:
    """Mirror a change the provider confirmed; returns the old status (None: no such row)."""
    row = session.get(DeploymentRow, dep_id)
    if row is None:
        return None
    old = row.status
    for key, value in capacity.items():
        if value is not None:
            setattr(row, key, value)
    row.status = str(info.status)
    row.provider_data = info.model_dump(mode="json")
    row.updated_at = now
    return old


def set_status_if(
    session: Session,
    dep_id: str,
    old: str,
    new: str,
    info: DeploymentInfo | None,
    now: datetime,
    *,
    deleted: bool = False,
    at: datetime | None = None,
) -> bool:
    """Compare-and-set a deployment's status (True only for the one caller that moved it).

    `at`: when a deletion happened at the provider, if before it was seen (arrears release).
    """
    values: dict[str, Any] = {"status": new, "updated_at": now}
    if info is not None:
        values["provider_data"] = info.model_dump(mode="json")
    if deleted:
        values["deleted_at"] = at or now
    return compare_and_set(
        session, DeploymentRow, [DeploymentRow.id == dep_id, DeploymentRow.status == old], values
    )


def set_capacity_if_unchanged(
    session: Session,
    dep_id: str,
    stored: dict[str, int | None],
    remote: dict[str, int | None],
    now: datetime,
) -> bool:
    """Take the provider's capacity if the stored one is still `stored` (one replica wins)."""
    unchanged = [
        getattr(DeploymentRow, k) == v if v is not None else getattr(DeploymentRow, k).is_(None)
        for k, v in stored.items()
    ]
    return compare_and_set(
        session,
        DeploymentRow,
        [DeploymentRow.id == dep_id, *unchanged],
        {**remote, "updated_at": now},
    )


def set_capacity(
    session: Session, dep_id: str, capacity: dict[str, int | None], now: datetime
) -> None:
    """Record the capacity Model Studio reports as running (what bills), whatever was asked."""
    row = session.get(DeploymentRow, dep_id)
    if row is None:
        return
    for key, value in capacity.items():
        if key in CAPACITY_FIELDS and value is not None:
            setattr(row, key, value)
    row.updated_at = now
