"""The in-process deck: catalog, billing, store, provider and workflow behind one object.

Surfaces never talk to the store or the provider directly; they call a `DeckAPI` (this class,
or `RemoteDeck` over the server's REST API).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import select

from modeldeck import identity, plugins
from modeldeck.domain import (
    Actor,
    CommandResult,
    DecisionOutcome,
    DeploymentRecord,
    DeploySpec,
    Estimate,
    LimitsSpec,
    RequestRecord,
    RequestStatus,
    ScaleSpec,
    Surface,
)
from modeldeck.errors import ConflictError, ModeldeckError, UserError
from modeldeck.settings import Settings, config_error, load_settings
from modeldeck.store import Store, repo
from modeldeck.store.models import DeploymentRow, OrderRow, RequestRow
from modeldeck.timeutil import utcnow

if TYPE_CHECKING:
    from modeldeck.billing.rules import BillingRules
    from modeldeck.catalog import Catalog
    from modeldeck.provider.base import Provider

log = logging.getLogger(__name__)

FINAL_STATUSES = {"DELETED"}


def _ttl_seconds(text: str) -> int:
    from modeldeck.grammar import parse_duration

    return parse_duration(text)


class Deck:
    """modeldeck in one process: implements :class:`modeldeck.api.DeckAPI`."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        provider: Provider | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or Store(settings.effective_database_url)
        self._provider = provider
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        from modeldeck.config_audit import record_config_change

        record_config_change(self.store, settings)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Deck:
        return cls(settings or load_settings())

    # --- parts, built lazily so `estimate` needs neither the store's provider nor the network
    @cached_property
    def catalog(self) -> Catalog:
        from modeldeck.catalog import load_catalog

        return load_catalog(self.settings)

    @cached_property
    def rules(self) -> BillingRules:
        """The billing decisions in force: billing-rules.md, with `[billing]` overrides."""
        from modeldeck.billing.rules import BillingRules

        try:
            return BillingRules.model_validate(self.settings.billing)
        except ValidationError as exc:
            raise config_error(
                exc,
                "[billing] rules in the configuration",
                "See docs/billing.md for each rule and its allowed values.",
            ) from None

    @property
    def provider(self) -> Provider:
        if self._provider is None:
            from modeldeck.provider.factory import get_provider

            self._provider = get_provider(self.settings)
        return self._provider

    def close(self) -> None:
        if self._provider is not None:
            self._provider.close()
        self.store.dispose()

    def fire(self, name: str, **kwargs: Any) -> None:
        """Call a notification hook; a failing plugin is logged, never undoes the change."""
        try:
            getattr(plugins.hook(), name)(deck=self, **kwargs)
        except Exception:
            log.exception("plugin hook %s failed", name)

    # --- catalog and estimates
    def models(self) -> list[dict[str, Any]]:
        return self.catalog.rows()

    def estimate(self, spec: DeploySpec) -> Estimate:
        from modeldeck.billing import estimate

        return estimate(spec, self.catalog, self.rules)

    # --- identity
    def resolve_actor(self, surface: Surface, external_id: str) -> Actor:
        return identity.resolve_actor(self.settings, surface, external_id)

    # --- requests
    def request_deploy(
        self, spec: DeploySpec, actor: Actor, reason: str | None = None
    ) -> RequestRecord:
        from modeldeck.billing import validate_spec

        identity.require(actor, "request")
        identity.check_module_access(self.settings, actor)
        spec = validate_spec(spec, self.catalog, self.rules)
        identity.check_model_privilege(self.settings, spec.model)
        self._check_redeploy(spec)
        return self._create_request(
            "deploy", actor, reason, deploy=spec, estimate=self.estimate(spec)
        )

    def _check_redeploy(self, spec: DeploySpec) -> None:
        """A deploy naming a live deployment may not change its billing method (seed rule)."""
        from modeldeck.billing import check_billing_change

        code = f"{spec.model}-{spec.suffix}" if spec.suffix else None
        for dep in self.list_deployments():
            same = (spec.name and dep.name == spec.name) or (code and dep.deployed_model == code)
            if same and dep.model == spec.model:
                check_billing_change(dep, spec)

    def request_scale(
        self, spec: ScaleSpec, actor: Actor, reason: str | None = None
    ) -> RequestRecord:
        identity.require(actor, "request")
        identity.check_module_access(self.settings, actor)
        dep = self.get_deployment(spec.deployment)
        if dep.plan == "mu" and spec.units is None:
            raise UserError(
                f"{dep.id} is a Model Unit deployment: scale it with units=<n>.",
                hint="Example: scale " + (dep.deployed_model or dep.id) + " units=2",
            )
        if dep.plan == "ptu" and spec.input_tpm is None and spec.output_tpm is None:
            raise UserError(
                f"{dep.id} is a Provisioned Throughput deployment: scale it with "
                "in=<TPM> out=<TPM>.",
                hint="Example: scale " + (dep.deployed_model or dep.id) + " in=20000 out=2000",
            )
        target = DeploySpec(
            model=dep.model,
            plan=dep.plan,
            mode=dep.mode,
            billing=dep.billing,
            units=spec.units if dep.plan == "mu" else None,
            input_tpm=(spec.input_tpm or dep.input_tpm) if dep.plan == "ptu" else None,
            output_tpm=(spec.output_tpm if spec.output_tpm is not None else dep.output_tpm)
            if dep.plan == "ptu"
            else None,
        )
        est = self.estimate(target)
        spec = spec.model_copy(update={"deployment": dep.id})
        return self._create_request(
            "scale", actor, reason, scale=spec, deployment_id=dep.id, estimate=est
        )

    def request_limits(
        self, spec: LimitsSpec, actor: Actor, reason: str | None = None
    ) -> RequestRecord:
        identity.require(actor, "request")
        dep = self.get_deployment(spec.deployment)
        spec = spec.model_copy(update={"deployment": dep.id})
        return self._create_request("limits", actor, reason, limits=spec, deployment_id=dep.id)

    def request_unpublish(
        self, deployment: str, actor: Actor, reason: str | None = None
    ) -> RequestRecord:
        identity.require(actor, "request")
        identity.check_module_access(self.settings, actor)
        dep = self.get_deployment(deployment)
        if dep.status in FINAL_STATUSES:
            raise ConflictError(f"{dep.id} is already unpublished.")
        return self._create_request("unpublish", actor, reason, deployment_id=dep.id)

    def _create_request(
        self,
        kind: str,
        actor: Actor,
        reason: str | None,
        *,
        estimate: Estimate | None = None,
        **fields: Any,
    ) -> RequestRecord:
        now = utcnow()
        draft = RequestRecord(
            id=repo.new_id("req"),
            kind=kind,
            status=RequestStatus.PENDING,
            requester=actor.principal,
            surface=actor.surface,
            reason=reason,
            estimate=estimate,
            policy={"auto_approve": False, "rule": "pending policy"},
            created_at=now,
            expires_at=now + timedelta(seconds=_ttl_seconds(self.settings.policy.request_ttl)),
            **fields,
        )
        decision = plugins.hook().evaluate_policy(
            request=draft, estimate=estimate, settings=self.settings
        )
        record = draft.model_copy(update={"policy": decision})
        with self.store.session() as session:
            repo.insert_request(session, record)
            repo.audit(
                session,
                actor=actor.principal,
                surface=actor.surface,
                action="request",
                subject=record.id,
                cost_estimate=Decimal(estimate.total) if estimate else None,
                summary=record.summary,
                policy=decision.rule,
                reason=reason,
            )
        self.fire("request_created", request=record)
        if decision.auto_approve:
            with self.store.session() as session:
                repo.transition(
                    session,
                    record.id,
                    RequestStatus.PENDING,
                    RequestStatus.APPROVED,
                    decided_at=utcnow(),
                )
                repo.audit(
                    session,
                    actor="policy",
                    surface="system",
                    action="auto_approve",
                    subject=record.id,
                    rule=decision.rule,
                )
            self.execute(record.id)
        return self.get_request(record.id)

    # --- decisions
    def approve(self, request_id: str, actor: Actor) -> DecisionOutcome:
        return self._decide(request_id, actor, "approve", None)

    def reject(self, request_id: str, actor: Actor, reason: str | None = None) -> DecisionOutcome:
        return self._decide(request_id, actor, "reject", reason)

    def _decide(
        self, request_id: str, actor: Actor, verdict: str, reason: str | None
    ) -> DecisionOutcome:
        identity.require(actor, "decide")
        identity.check_module_access(self.settings, actor)
        self.expire_due()
        current = self.get_request(request_id)
        if current.status != RequestStatus.PENDING:
            return self._already(current)
        if verdict == "approve" and actor.principal == current.requester:
            raise ConflictError(
                f"You requested {current.id}, so you cannot approve it.",
                hint="Someone else with the approver role must approve it.",
            )
        identity.require_approver_role(actor, current.policy.approver_role, current.id)
        now = utcnow()
        needed = max(1, current.policy.approvers_required)
        approvals: set[str] = set()
        with self.store.session() as session:
            # One decision at a time per request: the vote, the count and the move are atomic,
            # so racing approvers never both move it, nor leave a quorum stuck in pending.
            repo.lock_request(session, request_id)
            record = repo.load_request(session, request_id)
            if record.status != RequestStatus.PENDING:
                state = "already"
            elif record.expires_at is not None and record.expires_at <= now:
                expired = RequestStatus.EXPIRED
                repo.transition(session, request_id, RequestStatus.PENDING, expired, decided_at=now)
                repo.audit(
                    session, actor="policy", surface="system", action="expire", subject=request_id
                )
                state = "expired"
            elif not repo.add_decision(
                session, request_id, actor.principal, actor.surface, verdict, reason, now
            ):
                state = "voted"
            else:
                repo.audit(
                    session,
                    actor=actor.principal,
                    surface=actor.surface,
                    action=verdict,
                    subject=request_id,
                    reason=reason,
                )
                record = repo.load_request(session, request_id)
                approvals = {
                    d.principal
                    for d in record.decisions
                    if d.verdict == "approve" and d.principal != record.requester
                }
                if verdict == "approve" and len(approvals) < needed:
                    state = "partial"
                else:
                    target = (
                        RequestStatus.REJECTED if verdict == "reject" else RequestStatus.APPROVED
                    )
                    repo.transition(
                        session, request_id, RequestStatus.PENDING, target, decided_at=now
                    )
                    state = verdict
        if state == "already":
            return self._already(record)
        if state == "voted":
            return DecisionOutcome(
                request=record,
                outcome="already_decided",
                message=f"You already voted on {request_id}; nothing changed.",
            )
        record = self.get_request(request_id)
        if state in ("expired", "partial", "reject"):
            self.fire("request_decided", request=record)
        if state == "expired":
            return self._already(record)
        if state == "partial":
            return DecisionOutcome(
                request=record,
                outcome="recorded",
                message=f"Approval recorded for {request_id} ({len(approvals)} of {needed}).",
            )
        if state == "reject":
            return DecisionOutcome(
                request=record, outcome="rejected", message=f"{request_id} rejected."
            )
        record = self.execute(request_id)
        ok = record.status == RequestStatus.EXECUTED
        return DecisionOutcome(
            request=record,
            outcome="executed" if ok else "failed",
            message=(
                f"{request_id} approved and executed."
                if ok
                else f"{request_id} approved but execution failed: {record.error}"
            ),
        )

    @staticmethod
    def _already(record: RequestRecord) -> DecisionOutcome:
        if record.status == RequestStatus.EXPIRED:
            message = (
                f"{record.id} expired before enough approvals came in; nothing changed. "
                "Ask for it again with a new request."
            )
        else:
            by = ", ".join(d.principal for d in record.decisions) or "policy"
            message = f"{record.id} was already {record.status.value} (by {by}); nothing changed."
        return DecisionOutcome(request=record, outcome="already_decided", message=message)

    # --- execution (exactly once: only the claimer runs it; the provider dedups by request id)
    def execute(self, request_id: str) -> RequestRecord:
        """Claim an approved request (compare-and-set) and carry it out; a no-op if claimed."""
        with self.store.session() as session:
            claimed = repo.transition(
                session,
                request_id,
                RequestStatus.APPROVED,
                RequestStatus.EXECUTING,
                claimed_by=self.worker_id,
                claimed_at=utcnow(),
            )
        if not claimed:
            return self.get_request(request_id)
        return self.run_claimed(request_id)

    def run_claimed(self, request_id: str) -> RequestRecord:
        """Carry out a request this process holds the claim of, and record the outcome once."""
        record = self.get_request(request_id)
        try:
            detail = self._apply(record)
        except ModeldeckError as exc:
            with self.store.session() as session:
                if repo.transition(
                    session,
                    request_id,
                    RequestStatus.EXECUTING,
                    RequestStatus.FAILED,
                    error=str(exc),
                    executed_at=utcnow(),
                ):
                    repo.audit(
                        session,
                        actor=self.worker_id,
                        surface="system",
                        action="failed",
                        subject=request_id,
                        error=str(exc),
                    )
        else:
            # Only the executor that records the outcome audits it (a recovered claim may race
            # the original executor; the provider deduplicates the work itself).
            with self.store.session() as session:
                if repo.transition(
                    session,
                    request_id,
                    RequestStatus.EXECUTING,
                    RequestStatus.EXECUTED,
                    executed_at=utcnow(),
                    **detail,
                ):
                    repo.audit(
                        session,
                        actor=self.worker_id,
                        surface="system",
                        action="executed",
                        subject=request_id,
                        summary=record.summary,
                    )
        final = self.get_request(request_id)
        self.fire("request_decided", request=final)
        return final

    def _apply(self, record: RequestRecord) -> dict[str, Any]:
        """Carry out an approved request at the provider and mirror the result in the store."""
        from modeldeck.provider import build_create_body

        now = utcnow()
        if record.deploy is not None:
            spec = record.deploy
            info = self.provider.create_deployment(
                build_create_body(spec), idempotency_key=record.id
            )
            dep_id = repo.new_id("dep")
            with self.store.session() as session:
                existing = session.scalar(
                    select(DeploymentRow).where(DeploymentRow.deployed_model == info.deployed_model)
                )
                if existing is None:
                    row = DeploymentRow(
                        id=dep_id,
                        deployed_model=info.deployed_model,
                        name=spec.name,
                        model=spec.model,
                        plan=spec.plan,
                        mode=spec.mode,
                        billing=spec.billing,
                        status=str(info.status),
                        units=spec.units,
                        input_tpm=spec.input_tpm,
                        output_tpm=spec.output_tpm,
                        thinking_output_tpm=spec.thinking_output_tpm,
                        rpm_limit=spec.rpm_limit,
                        tpm_limit=spec.tpm_limit,
                        request_id=record.id,
                        imported=False,
                        provider_data=info.model_dump(mode="json"),
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(row)
                else:
                    existing.request_id = record.id
                    existing.imported = False
                    dep_id = existing.id
            if spec.billing in ("upfront", "monthly") and record.estimate is not None:
                self._record_order(dep_id, spec, record.estimate, now)
            self.fire(
                "deployment_status_changed",
                deployment=self.get_deployment(dep_id),
                old_status=None,
                new_status=str(info.status),
            )
            return {"deployment_id": dep_id}
        dep = self.get_deployment(record.deployment_id or "")
        code = dep.deployed_model or dep.id
        if record.scale is not None:
            s = record.scale
            if dep.plan == "mu":
                info = self.provider.scale_deployment(code, capacity=s.units)
            else:
                cap = {
                    "input_tpm": s.input_tpm or dep.input_tpm,
                    "output_tpm": s.output_tpm if s.output_tpm is not None else dep.output_tpm,
                }
                if s.thinking_output_tpm is not None:
                    cap["thinking_output_tpm"] = s.thinking_output_tpm
                info = self.provider.scale_deployment(code, ptu_capacity=cap)
            self._update_deployment(
                dep.id, info, units=s.units, input_tpm=s.input_tpm, output_tpm=s.output_tpm
            )
        elif record.limits is not None:
            info = self.provider.update_limits(
                code, rpm_limit=record.limits.rpm_limit, tpm_limit=record.limits.tpm_limit
            )
            self._update_deployment(
                dep.id, info, rpm_limit=record.limits.rpm_limit, tpm_limit=record.limits.tpm_limit
            )
        elif record.kind == "unpublish":
            info = self.provider.delete_deployment(code)
            self._update_deployment(dep.id, info)
        return {}

    def _record_order(
        self, dep_id: str, spec: DeploySpec, estimate: Estimate, now: datetime
    ) -> None:
        """Store the upfront order an executed deploy paid for, with its Beijing timeline."""
        from modeldeck.billing import order_timeline

        upfront = spec.billing == "upfront"
        quantity = (spec.days or 1) if upfront else (spec.months or 1)
        # decision: a month of an MU package runs 30 days on the same Beijing calendar
        timeline = order_timeline(now, quantity if upfront else 30 * quantity)
        with self.store.session() as session:
            if session.scalar(select(OrderRow.id).where(OrderRow.deployment_id == dep_id)):
                return  # a re-run of the same deploy (recovery): its order is already recorded
            session.add(
                OrderRow(
                    id=repo.new_id("ord"),
                    deployment_id=dep_id,
                    kind="ptu_daily" if upfront else "mu_monthly",
                    quantity=quantity,
                    amount=Decimal(estimate.total),
                    currency=estimate.currency,
                    status="active",
                    ordered_at=now,
                    expires_at=timeline.expires_at,
                    stops_at=timeline.stops_at,
                    released_at=timeline.released_at,
                )
            )

    def _update_deployment(self, dep_id: str, info: Any, **capacity: int | None) -> None:
        with self.store.session() as session:
            row = session.get(DeploymentRow, dep_id)
            if row is None:
                return
            old = row.status
            for key, value in capacity.items():
                if value is not None:
                    setattr(row, key, value)
            row.status = str(info.status)
            row.provider_data = info.model_dump(mode="json")
            row.updated_at = utcnow()
        if old != str(info.status):
            self.fire(
                "deployment_status_changed",
                deployment=self.get_deployment(dep_id),
                old_status=old,
                new_status=str(info.status),
            )

    # --- reads
    def get_request(self, request_id: str) -> RequestRecord:
        with self.store.session() as session:
            return repo.load_request(session, request_id)

    def list_requests(self, status: str | None = None) -> list[RequestRecord]:
        self.expire_due()
        with self.store.session() as session:
            query = select(RequestRow.id).order_by(RequestRow.created_at)
            if status:
                query = query.where(RequestRow.status == status)
            ids = list(session.scalars(query))
            return [repo.load_request(session, i) for i in ids]

    def set_request_ref(self, request_id: str, key: str, value: str) -> None:
        with self.store.session() as session:
            row = session.get(RequestRow, request_id)
            if row is None:
                raise repo.NotFound(f"No request {request_id!r}.")
            row.refs = {**(row.refs or {}), key: value}

    def expire_due(self) -> None:
        """Move pending requests past their TTL to expired (each once, announced by hook)."""
        now = utcnow()
        with self.store.session() as session:
            due = list(
                session.scalars(
                    select(RequestRow.id).where(
                        RequestRow.status == RequestStatus.PENDING.value,
                        RequestRow.expires_at < now,
                    )
                )
            )
            expired = [
                i
                for i in due
                if repo.transition(
                    session, i, RequestStatus.PENDING, RequestStatus.EXPIRED, decided_at=now
                )
            ]
            for i in expired:
                repo.audit(session, actor="policy", surface="system", action="expire", subject=i)
        for i in expired:
            self.fire("request_decided", request=self.get_request(i))

    def list_deployments(self, include_deleted: bool = False) -> list[DeploymentRecord]:
        with self.store.session() as session:
            return [
                repo.deployment_to_record(r)
                for r in repo.list_deployments(session, include_deleted)
            ]

    def get_deployment(self, ref: str) -> DeploymentRecord:
        with self.store.session() as session:
            return repo.deployment_to_record(repo.find_deployment(session, ref))

    # --- sync with the provider
    def refresh(self) -> list[DeploymentRecord]:
        """One reconciliation pass (statuses, imports, drift, recovery, timelines)."""
        from modeldeck.reconciler import Reconciler

        Reconciler(self).run_once()
        return self.list_deployments()

    # --- the grammar
    def run(self, text: str, actor: Actor) -> CommandResult:
        from modeldeck.commands import run_command

        return run_command(self, text, actor)
