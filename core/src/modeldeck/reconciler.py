"""The reconciler: keeps the store true to the provider, exactly once per change, on any replica.

Every change it makes is a compare-and-set (status updates guarded by the old status, imports
guarded by the unique Model Code, timeline events by a unique row, stuck executions re-claimed
with the old claim), so several reconcilers on one PostgreSQL fire each hook once. Stuck
executions are re-run with the same idempotency key, so the provider never creates twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from modeldeck.domain import RequestStatus
from modeldeck.errors import ModeldeckRuntimeError
from modeldeck.store import repo
from modeldeck.store.models import DeploymentRow, OrderRow, RequestRow, TimelineEventRow
from modeldeck.timeutil import utcnow

if TYPE_CHECKING:
    from modeldeck.deck import Deck
    from modeldeck.provider.models import DeploymentInfo

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(seconds=120)
TIMELINE_EVENTS = (
    ("expires_in_24h", "expires_at", timedelta(hours=-24)),
    ("expires_in_2h", "expires_at", timedelta(hours=-2)),
    ("stopped", "stops_at", timedelta(0)),
    ("released", "released_at", timedelta(0)),
)


@dataclass
class ReconcileReport:
    """What one pass changed (for `modeldeck reconcile` and tests)."""

    status_changes: list[tuple[str, str | None, str]] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    timeline: list[tuple[str, str]] = field(default_factory=list)
    provider_reachable: bool = True


def _capacity_of(info: DeploymentInfo) -> dict[str, int | None]:
    data = info.model_dump(mode="json")
    if data.get("plan") == "ptu":
        ptu = data.get("ptu_capacity") or {}
        return {"input_tpm": ptu.get("input_tpm"), "output_tpm": ptu.get("output_tpm")}
    return {"units": data.get("capacity")}


def _base_model(info: DeploymentInfo) -> str:
    data = info.model_dump(mode="json")
    return str(data.get("model_name") or data.get("base_model") or "").lower()


def _pid_alive(claimed_by: str | None) -> bool:
    """False only when the claim is by a process of this host that no longer exists."""
    if not claimed_by or ":" not in claimed_by:
        return True
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Reconciler:
    """Reconcile a deck's store with its provider: one pass (`run_once`) or a loop (`watch`)."""

    def __init__(self, deck: Deck, *, stale_claim: timedelta = STALE_CLAIM) -> None:
        self.deck = deck
        self.stale_claim = stale_claim

    def run_once(self, now: datetime | None = None) -> ReconcileReport:
        report = ReconcileReport()
        self.sync_deployments(report)
        if report.provider_reachable:  # an outage must not turn stuck work into failures
            self.recover_executions(report)
        self.deck.expire_due()
        self.drive_timelines(report, now or utcnow())
        return report

    def watch(self, interval: float = 5.0, *, passes: int | None = None) -> None:
        done = 0
        while passes is None or done < passes:
            try:
                self.run_once()
            except Exception:  # a failed pass is logged; the loop goes on
                log.exception("reconcile pass failed")
            done += 1
            if passes is None or done < passes:
                time.sleep(interval)

    # --- deployments ---------------------------------------------------------------------
    def sync_deployments(self, report: ReconcileReport) -> None:
        from modeldeck.provider.errors import ProviderNotFound

        deck = self.deck
        try:
            remote = {d.deployed_model: d for d in deck.provider.iter_deployments()}
        except ModeldeckRuntimeError as exc:
            log.warning(
                "reconcile: provider unreachable (%s); stored state kept", type(exc).__name__
            )
            report.provider_reachable = False
            return
        with deck.store.session() as session:
            rows = repo.list_deployments(session)
        known = {r.deployed_model for r in rows}
        for row in rows:
            if not row.deployed_model:
                continue
            info = remote.get(row.deployed_model)
            if info is None:
                try:
                    info = deck.provider.get_deployment(row.deployed_model)
                except ProviderNotFound:
                    self._set_status(row.id, row.status, "DELETED", None, report, deleted=True)
                    continue
                except ModeldeckRuntimeError:
                    continue
            if str(info.status) != row.status:
                self._set_status(row.id, row.status, str(info.status), info, report)
            self._check_drift(row, info, report)
        executing = self._models_being_deployed()
        for code, info in remote.items():
            if code not in known:
                if _base_model(info) in executing:
                    # Its executor (or the recovery of a dead one) records it as the request's;
                    # importing it now would call modeldeck's own deployment "made elsewhere".
                    continue
                self._import(info, report)

    def _models_being_deployed(self) -> set[str]:
        """Base models of deploy requests that are executing right now (lower case)."""
        with self.deck.store.session() as session:
            payloads = session.scalars(
                select(RequestRow.payload).where(
                    RequestRow.status == RequestStatus.EXECUTING.value, RequestRow.kind == "deploy"
                )
            )
            return {str((p or {}).get("deploy", {}).get("model", "")).lower() for p in payloads}

    def _set_status(
        self,
        dep_id: str,
        old: str,
        new: str,
        info: DeploymentInfo | None,
        report: ReconcileReport,
        *,
        deleted: bool = False,
    ) -> None:
        now = utcnow()
        values: dict[str, Any] = {"status": new, "updated_at": now}
        if info is not None:
            values["provider_data"] = info.model_dump(mode="json")
        if deleted:
            values["deleted_at"] = now
        with self.deck.store.session() as session:
            moved = repo.compare_and_set(
                session,
                DeploymentRow,
                [DeploymentRow.id == dep_id, DeploymentRow.status == old],
                values,
            )
            if moved:
                repo.audit(
                    session,
                    actor="reconciler",
                    surface="system",
                    action="status",
                    subject=dep_id,
                    old=old,
                    new=new,
                )
        if moved:
            report.status_changes.append((dep_id, old, new))
            self.deck.fire(
                "deployment_status_changed",
                deployment=self.deck.get_deployment(dep_id),
                old_status=old,
                new_status=new,
            )

    def _check_drift(
        self, row: DeploymentRow, info: DeploymentInfo, report: ReconcileReport
    ) -> None:
        remote = _capacity_of(info)
        stored = {key: getattr(row, key) for key in remote}
        if all(v is None for v in remote.values()) or remote == stored:
            return
        if str(info.status) in ("UPDATING", "PENDING", "DEPLOYING"):
            return  # a scale in flight is not drift
        with self.deck.store.session() as session:
            unchanged = [
                getattr(DeploymentRow, k) == v
                if v is not None
                else getattr(DeploymentRow, k).is_(None)
                for k, v in stored.items()
            ]
            moved = repo.compare_and_set(
                session,
                DeploymentRow,
                [DeploymentRow.id == row.id, *unchanged],
                {**remote, "updated_at": utcnow()},
            )
            if moved:
                repo.audit(
                    session,
                    actor="reconciler",
                    surface="system",
                    action="drift",
                    subject=row.id,
                    stored=stored,
                    provider=remote,
                )
        if moved:
            report.drift.append({"deployment": row.id, "stored": stored, "provider": remote})

    def _import(self, info: DeploymentInfo, report: ReconcileReport) -> None:
        data = info.model_dump(mode="json")
        dep_id = repo.new_id("dep")
        now = utcnow()
        ptu = data.get("ptu_capacity") or {}
        row = DeploymentRow(
            id=dep_id,
            deployed_model=info.deployed_model,
            name=data.get("name"),
            model=str(data.get("model_name") or data.get("base_model") or info.deployed_model),
            plan="ptu" if data.get("plan") == "ptu" else "mu",
            mode="thinking" if data.get("enable_thinking") else "instruct",
            billing="upfront" if data.get("charge_type") == "pre_paid" else "hourly",
            status=str(info.status),
            units=data.get("capacity") if data.get("plan") != "ptu" else None,
            input_tpm=ptu.get("input_tpm"),
            output_tpm=ptu.get("output_tpm"),
            rpm_limit=data.get("rpm_limit"),
            tpm_limit=data.get("tpm_limit"),
            imported=True,
            provider_data=data,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.deck.store.session() as session:
                session.add(row)
                session.flush()
                repo.audit(
                    session,
                    actor="reconciler",
                    surface="system",
                    action="import",
                    subject=dep_id,
                    deployed_model=info.deployed_model,
                )
        except IntegrityError:
            return  # another replica (or the executor) recorded it first
        report.imported.append(dep_id)
        self.deck.fire(
            "deployment_status_changed",
            deployment=self.deck.get_deployment(dep_id),
            old_status=None,
            new_status=str(info.status),
        )

    # --- executions ----------------------------------------------------------------------
    def recover_executions(self, report: ReconcileReport) -> None:
        """Finish approved work whose executor died: same idempotency key, so never twice."""
        now = utcnow()
        with self.deck.store.session() as session:
            rows = list(
                session.scalars(
                    select(RequestRow).where(
                        RequestRow.status.in_(
                            [RequestStatus.APPROVED.value, RequestStatus.EXECUTING.value]
                        )
                    )
                )
            )
        for row in rows:
            if row.status == RequestStatus.APPROVED.value:
                if row.decided_at and now - row.decided_at < timedelta(seconds=5):
                    continue  # its executor is most likely still about to claim it
                self.deck.execute(row.id)
                report.recovered.append(row.id)
                continue
            stale = row.claimed_at is None or now - row.claimed_at > self.stale_claim
            if not stale and _pid_alive(row.claimed_by):
                continue
            with self.deck.store.session() as session:
                moved = repo.compare_and_set(
                    session,
                    RequestRow,
                    [
                        RequestRow.id == row.id,
                        RequestRow.status == RequestStatus.EXECUTING.value,
                        RequestRow.version == row.version,
                    ],
                    {
                        "claimed_by": self.deck.worker_id,
                        "claimed_at": now,
                        "version": RequestRow.version + 1,
                    },
                )
                if moved:
                    repo.audit(
                        session,
                        actor="reconciler",
                        surface="system",
                        action="recover",
                        subject=row.id,
                        previous_claim=row.claimed_by,
                    )
            if moved:
                self.deck.run_claimed(row.id)
                report.recovered.append(row.id)

    # --- upfront timelines ---------------------------------------------------------------
    def drive_timelines(self, report: ReconcileReport, now: datetime) -> None:
        with self.deck.store.session() as session:
            orders = list(session.scalars(select(OrderRow).where(OrderRow.status != "released")))
        for order in orders:
            for event, attr, offset in TIMELINE_EVENTS:
                when = getattr(order, attr)
                if when is None or now < when + offset:
                    continue
                try:
                    with self.deck.store.session() as session:
                        session.add(TimelineEventRow(order_id=order.id, event=event, at=now))
                        session.flush()
                        if event in ("stopped", "released"):
                            session.execute(
                                update(OrderRow).where(OrderRow.id == order.id).values(status=event)
                            )
                        repo.audit(
                            session,
                            actor="reconciler",
                            surface="system",
                            action=f"order_{event}",
                            subject=order.id,
                        )
                except IntegrityError:
                    continue  # already fired, here or on another replica
                report.timeline.append((order.id, event))
                self.deck.fire(
                    "upfront_timeline",
                    deployment=self.deck.get_deployment(order.deployment_id),
                    order=order_dict(order),
                    event=event,
                )


def order_dict(order: OrderRow) -> dict[str, Any]:
    return {
        "id": order.id,
        "deployment_id": order.deployment_id,
        "kind": order.kind,
        "quantity": order.quantity,
        "amount": str(order.amount),
        "currency": order.currency,
        "status": order.status,
        **{
            k: getattr(order, k).isoformat() if getattr(order, k) else None
            for k in ("ordered_at", "expires_at", "stops_at", "released_at")
        },
    }
