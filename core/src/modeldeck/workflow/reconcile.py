"""Reconcile: keep the store true to the provider, exactly once per change, on any replica.

Every change is a compare-and-set (status updates guarded by the old status, imports guarded by
the unique Model Code, timeline events by a unique row, stuck executions re-claimed with the old
claim), so several reconcilers on one PostgreSQL emit each event once. Stuck executions are re-run
with the same idempotency key, so the provider never creates twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from modeldeck.domain import RequestStatus, in_flight
from modeldeck.errors import ModeldeckRuntimeError
from modeldeck.events import (
    DeploymentImported,
    DeploymentStatusChanged,
    DriftDetected,
    ExecutionRecovered,
    ReconcileFailed,
)
from modeldeck.store import audit_log, repo
from modeldeck.store import deployments as deployment_rows
from modeldeck.store import requests as request_rows
from modeldeck.timeutil import utcnow
from modeldeck.workflow import arrears, decisions, execution, imports, orders, schedules
from modeldeck.workflow.context import WorkflowContext

if TYPE_CHECKING:
    from modeldeck.provider.models import DeploymentInfo
    from modeldeck.store.models import DeploymentRow

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(seconds=120)
TIMELINE_EVENTS = orders.TIMELINE_EVENTS


@dataclass
class ReconcileReport:
    """What one pass changed (for `modeldeck reconcile` and tests)."""

    status_changes: list[tuple[str, str | None, str]] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    timeline: list[tuple[str, str]] = field(default_factory=list)
    arrears: list[tuple[str, str]] = field(default_factory=list)
    alerts: list[int] = field(default_factory=list)
    schedules: list[tuple[str, str]] = field(default_factory=list)
    provider_reachable: bool = True


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

    def __init__(self, deck: WorkflowContext, *, stale_claim: timedelta = STALE_CLAIM) -> None:
        self.deck = deck
        self.stale_claim = stale_claim

    def run_once(self, now: datetime | None = None) -> ReconcileReport:
        report = ReconcileReport()
        now = now or utcnow()
        self.sync_deployments(report, now)
        if report.provider_reachable:  # an outage must not turn stuck work into failures
            self.recover_executions(report)
            # each scheduled change once at its Beijing time, on any replica (workflow.schedules)
            report.schedules.extend(schedules.drive_schedules(self.deck, now))
        decisions.expire_due(self.deck)
        report.timeline.extend(orders.drive_timelines(self.deck, now))
        report.arrears.extend(arrears.drive_arrears(self.deck, now))
        if self.deck.settings.alerts.evaluate_in_reconciler:
            self.raise_alerts(report, now)
        return report

    def raise_alerts(self, report: ReconcileReport, now: datetime) -> None:
        """Evaluate the alert rules and raise what is due (claimed rows: replicas agree);
        a failure is logged and never stops the rest of the pass."""
        from modeldeck.workflow.spend import raise_alerts

        try:
            report.alerts.extend(a.id for a in raise_alerts(self.deck, now).new)
        except Exception:
            log.exception("reconcile: alert evaluation failed")

    def watch(self, interval: float = 5.0, *, passes: int | None = None) -> None:
        done = 0
        while passes is None or done < passes:
            try:
                self.run_once()
            except Exception as exc:  # a failed pass is logged and announced; the loop goes on
                log.exception("reconcile pass failed")
                self.deck.emit(ReconcileFailed(error=type(exc).__name__, actor="reconciler"))
            done += 1
            if passes is None or done < passes:
                time.sleep(interval)

    # --- deployments ---------------------------------------------------------------------
    def sync_deployments(self, report: ReconcileReport, now: datetime | None = None) -> None:
        from modeldeck.provider.errors import ProviderNotFound

        deck = self.deck
        now = now or utcnow()
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
                    if row.status == arrears.ARREARS_DOWN:
                        self._arrears_released(row, report, now)
                    else:
                        self._set_status(row.id, row.status, "DELETED", None, report, deleted=True)
                    continue
                except ModeldeckRuntimeError:
                    continue
            if str(info.status) != row.status:
                self._set_status(row.id, row.status, str(info.status), info, report)
            self._check_drift(row, info, report)
            if row.imported and row.billing != "hourly" and row.deleted_at is None:
                # a console purchase whose capacity was not yet known when it was imported
                imports.record_import_order(deck, row.id, info, utcnow())
        with deck.store.session() as session:
            executing = request_rows.models_being_deployed(session)
        for code, info in remote.items():
            if code not in known:
                if deployment_rows.base_model(info) in executing:
                    # Its executor (or the recovery of a dead one) records it as the request's;
                    # importing it now would call modeldeck's own deployment "made elsewhere".
                    continue
                self._import(info, report)

    def _set_status(
        self,
        dep_id: str,
        old: str,
        new: str,
        info: DeploymentInfo | None,
        report: ReconcileReport,
        *,
        deleted: bool = False,
        effective_at: datetime | None = None,
    ) -> bool:
        event = None
        with self.deck.store.session() as session:
            if deployment_rows.set_status_if(
                session, dep_id, old, new, info, utcnow(), deleted=deleted, at=effective_at
            ):
                event = DeploymentStatusChanged(
                    deployment=repo.deployment_to_record(repo.find_deployment(session, dep_id)),
                    old_status=old,
                    new_status=new,
                    audited=True,
                    actor="reconciler",
                    effective_at=effective_at,
                )
                audit_log.record_event(session, event)
        if event is not None:
            report.status_changes.append((dep_id, old, new))
            self.deck.emit(event)
        return event is not None

    def _arrears_released(self, row: DeploymentRow, report: ReconcileReport, now: datetime) -> None:
        """Gone while in arrears: released by the provider, as of its release time."""
        since = arrears.overdue_since(self.deck, row.id) or now
        released = min(arrears.release_at(self.deck, since), now)
        if self._set_status(
            row.id, row.status, "DELETED", None, report, deleted=True, effective_at=released
        ) and arrears.fire(self.deck, row.id, "arrears_released", since, now):
            report.arrears.append((row.id, "arrears_released"))

    def _check_drift(
        self, row: DeploymentRow, info: DeploymentInfo, report: ReconcileReport
    ) -> None:
        remote = deployment_rows.capacity_of(info)
        stored = {key: getattr(row, key) for key in remote}
        if all(v is None for v in remote.values()) or remote == stored:
            return
        if in_flight(str(info.status)):
            return  # a scale in flight is not drift
        event = None
        with self.deck.store.session() as session:
            if deployment_rows.set_capacity_if_unchanged(session, row.id, stored, remote, utcnow()):
                event = DriftDetected(
                    deployment_id=row.id, stored=stored, provider=remote, actor="reconciler"
                )
                audit_log.record_event(session, event)
        if event is not None:
            report.drift.append({"deployment": row.id, "stored": stored, "provider": remote})
            self.deck.emit(event)

    def _import(self, info: DeploymentInfo, report: ReconcileReport) -> None:
        with self.deck.store.session() as session:
            dep_id = deployment_rows.insert_imported(session, info, utcnow())
            if dep_id is None:
                return  # another replica (or the executor) recorded it first
            event = DeploymentImported(
                deployment=repo.deployment_to_record(repo.find_deployment(session, dep_id)),
                actor="reconciler",
            )
            audit_log.record_event(session, event)
        report.imported.append(dep_id)
        self.deck.emit(event)
        imports.record_import_order(self.deck, dep_id, info, utcnow())

    # --- executions ----------------------------------------------------------------------
    def recover_executions(self, report: ReconcileReport) -> None:
        """Finish approved work whose executor died: same idempotency key, so never twice."""
        now = utcnow()
        with self.deck.store.session() as session:
            rows = [
                (r.id, r.status, r.decided_at, r.claimed_at, r.claimed_by, r.version, r.refs)
                for r in request_rows.unfinished(session)
            ]
        for request_id, status, decided_at, claimed_at, claimed_by, version, refs in rows:
            if (refs or {}).get("outcome") in ("unknown", "pending"):
                # The provider had not answered: look it up / poll it, never do it again.
                with self.deck.store.session() as session:
                    mine = request_rows.take_over_claim(
                        session, request_id, version, self.deck.worker_id, now
                    )
                if mine and execution.settle(self.deck, request_id):
                    report.recovered.append(request_id)
                continue
            if status == RequestStatus.APPROVED.value:
                if decided_at and now - decided_at < timedelta(seconds=5):
                    continue  # its executor is most likely still about to claim it
                execution.execute(self.deck, request_id)
                report.recovered.append(request_id)
                continue
            stale = claimed_at is None or now - claimed_at > self.stale_claim
            if not stale and _pid_alive(claimed_by):
                continue
            event = None
            with self.deck.store.session() as session:
                if request_rows.take_over_claim(
                    session, request_id, version, self.deck.worker_id, now
                ):
                    event = ExecutionRecovered(
                        request_id=request_id, previous_claim=claimed_by, actor="reconciler"
                    )
                    audit_log.record_event(session, event)
            if event is not None:
                self.deck.emit(event)
                execution.run_claimed(self.deck, request_id)
                report.recovered.append(request_id)

    # --- upfront timelines ---------------------------------------------------------------
    def drive_timelines(self, report: ReconcileReport, now: datetime) -> None:
        report.timeline.extend(orders.drive_timelines(self.deck, now))
