"""Typed events: everything the workflow, the reconciler and the billing timeline tell the world.

Each change is a compare-and-set in the store; the one caller that wins it builds the event,
records it in the audit log inside the same transaction (audit is the first subscriber, so the
change and its record commit together), and after commit publishes it to every ``track_event``
implementation, each called in isolation. The older notification hooks (``request_created``,
``request_decided``, ``deployment_status_changed``, ``upfront_timeline``) are derived from the same
events, so a plugin may use either.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from modeldeck import plugins
from modeldeck.domain import DeploymentRecord, RequestRecord, Surface
from modeldeck.errors import ConfigError
from modeldeck.registry import Registry
from modeldeck.timeutil import utcnow

log = logging.getLogger(__name__)


class AuditEntry(BaseModel):
    """The audit record an event leaves (the append-only log's row, before it has an id)."""

    actor: str
    surface: str
    action: str
    subject: str | None = None
    cost_estimate: Decimal | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class Event(BaseModel):
    """Base of every event: its registered name, when, who and from where."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # validators built on first use

    name: ClassVar[str] = "event"
    at: datetime = Field(default_factory=utcnow)
    actor: str = "system"
    surface: Surface = "system"

    def audit_entry(self) -> AuditEntry | None:
        """The audit record of this event, or None for events that are not audited."""
        return None

    def legacy_hook(self) -> tuple[str, dict[str, Any]] | None:
        """The older notification hook this event also fires, with its arguments."""
        return None


# --- requests ----------------------------------------------------------------------------


class RequestCreated(Event):
    """A request was stored (and evaluated by the policy)."""

    name: ClassVar[str] = "request_created"
    request: RequestRecord

    def audit_entry(self) -> AuditEntry:
        r = self.request
        return AuditEntry(
            actor=self.actor,
            surface=self.surface,
            action="request",
            subject=r.id,
            cost_estimate=Decimal(r.estimate.total) if r.estimate else None,
            detail={"summary": r.summary, "policy": r.policy.rule, "reason": r.reason},
        )

    def legacy_hook(self) -> tuple[str, dict[str, Any]]:
        return "request_created", {"request": self.request}


Verdict = Literal["approve", "reject", "partial", "expire", "auto_approve"]


class RequestDecided(Event):
    """A decision moved (or counted towards moving) a request: vote, quorum, reject, expiry."""

    name: ClassVar[str] = "request_decided"
    request: RequestRecord
    verdict: Verdict
    reason: str | None = None
    rule: str | None = None

    def audit_entry(self) -> AuditEntry:
        r = self.request
        if self.verdict == "expire":
            return AuditEntry(actor="policy", surface="system", action="expire", subject=r.id)
        if self.verdict == "auto_approve":
            return AuditEntry(
                actor="policy",
                surface="system",
                action="auto_approve",
                subject=r.id,
                detail={"rule": self.rule},
            )
        action = "reject" if self.verdict == "reject" else "approve"
        return AuditEntry(
            actor=self.actor,
            surface=self.surface,
            action=action,
            subject=r.id,
            detail={"reason": self.reason},
        )

    def legacy_hook(self) -> tuple[str, dict[str, Any]] | None:
        # An approval that completes the quorum (or an auto-approval) is announced by the
        # execution's outcome, as before; every other decision is announced now.
        if self.verdict in ("approve", "auto_approve"):
            return None
        return "request_decided", {"request": self.request}


class RequestWithdrawn(Event):
    """The requester withdrew a pending request (declared for the trust workflow)."""

    name: ClassVar[str] = "request_withdrawn"
    request: RequestRecord

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor, surface=self.surface, action="withdraw", subject=self.request.id
        )


class RequestStale(Event):
    """A pending request's target changed or vanished (declared for the trust workflow)."""

    name: ClassVar[str] = "request_stale"
    request: RequestRecord
    why: str

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface=self.surface,
            action="stale",
            subject=self.request.id,
            detail={"why": self.why},
        )


# --- execution ---------------------------------------------------------------------------


class ExecutionStarted(Event):
    """This worker claimed an approved request (compare-and-set) and starts carrying it out."""

    name: ClassVar[str] = "execution_started"
    request_id: str
    worker: str


class ExecutionSucceeded(Event):
    """The provider did what the request asked; the outcome is recorded once."""

    name: ClassVar[str] = "execution_succeeded"
    request: RequestRecord

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface="system",
            action="executed",
            subject=self.request.id,
            detail={"summary": self.request.summary},
        )

    def legacy_hook(self) -> tuple[str, dict[str, Any]]:
        return "request_decided", {"request": self.request}


class ExecutionFailed(Event):
    """Carrying out the request failed; the error (secrets masked) is on the request."""

    name: ClassVar[str] = "execution_failed"
    request: RequestRecord
    error: str

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface="system",
            action="failed",
            subject=self.request.id,
            detail={"error": self.error},
        )

    def legacy_hook(self) -> tuple[str, dict[str, Any]]:
        return "request_decided", {"request": self.request}


class ExecutionRecovered(Event):
    """The reconciler took over a stuck execution (same idempotency key, so never twice)."""

    name: ClassVar[str] = "execution_recovered"
    request_id: str
    previous_claim: str | None = None

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor="reconciler",
            surface="system",
            action="recover",
            subject=self.request_id,
            detail={"previous_claim": self.previous_claim},
        )


class CapacityMismatch(Event):
    """The provider's answer to a capacity change does not show the capacity asked for."""

    name: ClassVar[str] = "capacity_mismatch"
    deployment_id: str
    request_id: str
    asked: dict[str, int | None]
    provider: dict[str, int | None]

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor or "system",
            surface="system",
            action="capacity_mismatch",
            subject=self.deployment_id,
            detail={"request": self.request_id, "asked": self.asked, "provider": self.provider},
        )


# --- deployments -------------------------------------------------------------------------


class DeploymentStatusChanged(Event):
    """A deployment's status changed (old_status None: modeldeck sees it for the first time)."""

    name: ClassVar[str] = "deployment_status_changed"
    deployment: DeploymentRecord
    old_status: str | None
    new_status: str
    audited: bool = False
    effective_at: datetime | None = Field(
        default=None,
        description="When the change happened at the provider, if before it was seen "
        "(an arrears release: 24 h after the account went overdue).",
    )

    def audit_entry(self) -> AuditEntry | None:
        if not self.audited:  # the executor's own changes are audited by the request's outcome
            return None
        detail: dict[str, Any] = {"old": self.old_status, "new": self.new_status}
        if self.effective_at is not None:
            detail["effective_at"] = self.effective_at.isoformat()
        return AuditEntry(
            actor="reconciler",
            surface="system",
            action="status",
            subject=self.deployment.id,
            detail=detail,
        )

    def legacy_hook(self) -> tuple[str, dict[str, Any]]:
        return "deployment_status_changed", {
            "deployment": self.deployment,
            "old_status": self.old_status,
            "new_status": self.new_status,
        }


class DriftDetected(Event):
    """The provider's capacity differs from the store's; the store now follows the provider."""

    name: ClassVar[str] = "drift_detected"
    deployment_id: str
    stored: dict[str, int | None]
    provider: dict[str, int | None]

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor="reconciler",
            surface="system",
            action="drift",
            subject=self.deployment_id,
            detail={"stored": self.stored, "provider": self.provider},
        )


class DeploymentImported(Event):
    """A deployment made outside modeldeck (console, another tool) is now in the store."""

    name: ClassVar[str] = "deployment_imported"
    deployment: DeploymentRecord

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor="reconciler",
            surface="system",
            action="import",
            subject=self.deployment.id,
            detail={"deployed_model": self.deployment.deployed_model},
        )

    def legacy_hook(self) -> tuple[str, dict[str, Any]]:
        return "deployment_status_changed", {
            "deployment": self.deployment,
            "old_status": None,
            "new_status": self.deployment.status,
        }


class ReconcileFailed(Event):
    """A reconcile pass failed (the loop goes on; the next pass retries)."""

    name: ClassVar[str] = "reconcile_failed"
    error: str


# --- orders and timelines ----------------------------------------------------------------


class Order(BaseModel):
    """An upfront (prepaid) order as events carry it."""

    id: str
    deployment_id: str
    kind: str
    quantity: int
    amount: Decimal | None = None  # None: the price is not listed (an import)
    currency: str
    status: str
    ordered_at: datetime
    expires_at: datetime | None = None
    stops_at: datetime | None = None
    released_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """The order as the ``upfront_timeline`` hook has always passed it (strings)."""
        out = self.model_dump(mode="json")
        out["amount"] = None if self.amount is None else str(self.amount)
        return out


class OrderRecorded(Event):
    """An executed deploy paid for an upfront order, now stored with its Beijing timeline."""

    name: ClassVar[str] = "order_recorded"
    order: Order


TimelineKind = Literal["expires_in_24h", "expires_in_2h", "stopped", "released", "auto_renewed"]


class OrderTimelineEvent(Event):
    """An upfront order reached a point of its timeline (fired once, on any replica)."""

    name: ClassVar[str] = "order_timeline"
    deployment: DeploymentRecord
    order: Order
    event: TimelineKind

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor="reconciler",
            surface="system",
            action=f"order_{self.event}",
            subject=self.order.id,
        )

    def legacy_hook(self) -> tuple[str, dict[str, Any]]:
        return "upfront_timeline", {
            "deployment": self.deployment,
            "order": self.order.as_dict(),
            "event": self.event,
        }


ArrearsKind = Literal["arrears_release_soon", "arrears_released"]


class ArrearsTimelineEvent(Event):
    """A pay-as-you-go deployment of an overdue account nears or reaches its release.

    The seed's rule: kept and billed 24 h (`billing.arrears_grace`) after the account went
    overdue, then released. Fired once per deployment and arrears episode, on any replica.
    """

    name: ClassVar[str] = "arrears_timeline"
    deployment: DeploymentRecord
    event: ArrearsKind
    overdue_since: datetime
    release_at: datetime

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor="reconciler",
            surface="system",
            action=self.event,
            subject=self.deployment.id,
            detail={
                "overdue_since": self.overdue_since.isoformat(),
                "release_at": self.release_at.isoformat(),
            },
        )


# --- configuration and tokens ------------------------------------------------------------


class ConfigChanged(Event):
    """A policy-relevant section of the configuration differs from the last one recorded."""

    name: ClassVar[str] = "config_changed"
    sections: list[str]
    digests: dict[str, str]
    values: dict[str, Any] = Field(default_factory=dict)

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface="system",
            action="config",
            subject=",".join(self.sections),
            detail={"digests": self.digests, "sections": self.values},
        )


class BudgetChanged(Event):
    """An admin set (added or replaced) a budget with `budget set`; stored, so replicas share it."""

    name: ClassVar[str] = "budget_changed"
    budget: dict[str, Any]
    replaced: dict[str, Any] | None = None

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface=self.surface,
            action="budget_set",
            subject=str(self.budget.get("name", "")),
            detail={"budget": self.budget, "replaced": self.replaced},
        )


# --- alerts ------------------------------------------------------------------------------


class AlertRaised(Event):
    """An alert was raised: emitted once per alert (kind, scope, period), by the one evaluator
    that claimed its row. `channels` are the `[[alerts.routes]]` that match (may be empty)."""

    name: ClassVar[str] = "alert_raised"
    alert_id: int
    kind: str
    scope: str
    period: str
    severity: Literal["info", "warning", "critical"]
    title: str
    message: str
    channels: list[str] = Field(default_factory=list)
    data: dict[str, str] = Field(default_factory=dict)


class TokenCreated(Event):
    """An API token was created (the token itself never travels in an event)."""

    name: ClassVar[str] = "token_created"
    token_id: str
    principal: str

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface="cli",
            action="token_create",
            subject=self.token_id,
            detail={"principal": self.principal},
        )


class TokenRevoked(Event):
    """An API token was revoked."""

    name: ClassVar[str] = "token_revoked"
    token_id: str
    principal: str

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface="cli",
            action="token_revoke",
            subject=self.token_id,
            detail={"principal": self.principal},
        )


class TokensListed(Event):
    """Someone listed the API tokens (ids, owners, dates; never the tokens): audited like every
    token action, so who looked at the team's tokens is on record."""

    name: ClassVar[str] = "tokens_listed"
    count: int

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface=self.surface,
            action="token_list",
            subject="tokens",
            detail={"count": self.count},
        )


# --- scheduled capacity --------------------------------------------------------------------


class ScheduleActivated(Event):
    """An approved schedule (or one-off window) is now in force: the reconciler runs it."""

    name: ClassVar[str] = "schedule_activated"
    schedule_id: str
    request_id: str
    deployment_id: str
    summary: str

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface=self.surface,
            action="schedule_activated",
            subject=self.schedule_id,
            detail={
                "request": self.request_id,
                "deployment": self.deployment_id,
                "summary": self.summary,
            },
        )


class _ScheduledChangeStep(Event):
    """One step of a scheduled change (started, applied, failed), audited under its own name with
    the same detail: the deployment, when, the level and the scale request that carries it."""

    schedule_id: str
    deployment_id: str
    change_at: datetime
    level: dict[str, int]
    request_id: str | None = None

    def _more(self) -> dict[str, Any]:
        """What a step adds to the shared detail."""
        return {}

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface=self.surface,
            action=self.name,
            subject=self.schedule_id,
            detail={
                "deployment": self.deployment_id,
                "change_at": self.change_at.isoformat(),
                "level": dict(self.level),
                "request": self.request_id,
                **self._more(),
            },
        )


class ScheduledChangeStarted(_ScheduledChangeStep):
    """A replica claimed one scheduled change and asked Model Studio for it (once)."""

    name: ClassVar[str] = "scheduled_change_started"
    request_id: str


class ScheduledChangeApplied(_ScheduledChangeStep):
    """A scheduled change reached its final state at Model Studio: the level now runs."""

    name: ClassVar[str] = "scheduled_change_applied"
    note: str | None = None

    def _more(self) -> dict[str, Any]:
        return {"note": self.note}


class ScheduledChangeFailed(_ScheduledChangeStep):
    """A scheduled change ended failed at Model Studio (the schedule goes on to the next)."""

    name: ClassVar[str] = "scheduled_change_failed"
    error: str

    def _more(self) -> dict[str, Any]:
        return {"error": self.error}


class SchedulePaused(Event):
    """A schedule stopped itself: its deployment is gone or was changed by hand (never fought)."""

    name: ClassVar[str] = "schedule_paused"
    schedule_id: str
    deployment_id: str
    reason: str

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface=self.surface,
            action="schedule_paused",
            subject=self.schedule_id,
            detail={"deployment": self.deployment_id, "reason": self.reason},
        )


class ScheduleCancelled(Event):
    """Someone ended a schedule (`unschedule`): no more changes; the capacity stays as it is."""

    name: ClassVar[str] = "schedule_cancelled"
    schedule_id: str
    deployment_id: str
    previous_state: str
    reason: str | None = None

    def audit_entry(self) -> AuditEntry:
        return AuditEntry(
            actor=self.actor,
            surface=self.surface,
            action="schedule_cancelled",
            subject=self.schedule_id,
            detail={
                "deployment": self.deployment_id,
                "previous_state": self.previous_state,
                "reason": self.reason,
            },
        )


CORE_EVENTS: tuple[type[Event], ...] = (
    RequestCreated,
    RequestDecided,
    RequestWithdrawn,
    RequestStale,
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionRecovered,
    CapacityMismatch,
    DeploymentStatusChanged,
    DriftDetected,
    DeploymentImported,
    ReconcileFailed,
    OrderRecorded,
    OrderTimelineEvent,
    ArrearsTimelineEvent,
    ConfigChanged,
    BudgetChanged,
    AlertRaised,
    TokenCreated,
    TokenRevoked,
    TokensListed,
    ScheduleActivated,
    ScheduledChangeStarted,
    ScheduledChangeApplied,
    ScheduledChangeFailed,
    SchedulePaused,
    ScheduleCancelled,
)


def event_types() -> dict[str, type[Event]]:
    """Every event class by name: the core's and those plugins add with ``register_events``."""
    registry = Registry("event")

    def register(event_class: type[Event]) -> None:
        if not (isinstance(event_class, type) and issubclass(event_class, Event)):
            raise ConfigError(
                f"register_events got {event_class!r}, which is not a modeldeck.events.Event."
            )
        registry.register(event_class.name, event_class)

    plugins.hook().register_events(register=register)
    return dict(registry.items)


def publish(event: Event, deck: Any) -> None:
    """Tell every plugin: ``track_event`` first, then the older hook the event maps to.

    Each implementation is called on its own; one that raises is logged and the others still
    get the event (pluggy alone would stop at the first exception).
    """
    plugins.call_each("track_event", event=event, deck=deck)
    legacy = event.legacy_hook()
    if legacy is not None:
        hook_name, kwargs = legacy
        plugins.call_each(hook_name, deck=deck, **kwargs)
