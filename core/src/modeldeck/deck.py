"""The in-process deck: a thin facade over catalog, billing, workflow and provider.

Surfaces never talk to the store or the provider directly; they call a `DeckAPI` (this class,
or `RemoteDeck` over the server's REST API). The work itself lives in :mod:`modeldeck.workflow`.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from modeldeck import events, identity
from modeldeck.config_audit import record_config_change
from modeldeck.domain import (
    Actor,
    DecisionOutcome,
    DeploymentRecord,
    DeploySpec,
    Estimate,
    LimitsSpec,
    RenewSpec,
    RequestRecord,
    ScaleSpec,
    Surface,
    WithdrawOutcome,
)
from modeldeck.errors import UserError
from modeldeck.identity import tokens
from modeldeck.identity.tokens import TokenGrant
from modeldeck.settings import Settings, config_error, load_settings
from modeldeck.store import Store, repo
from modeldeck.store import requests as request_rows
from modeldeck.workflow import (
    costs,
    decisions,
    event_alerts,
    execution,
    reconcile,
    requests,
    spend,
)

if TYPE_CHECKING:
    from modeldeck.billing.rules import BillingRules
    from modeldeck.budgets.models import Budget
    from modeldeck.catalog import Catalog
    from modeldeck.charts.data import SpendChart, UsageChart
    from modeldeck.grammar import CommandModel
    from modeldeck.metering import MeteredClient
    from modeldeck.metering.playground import PlaygroundEvent
    from modeldeck.planner import PlanResult
    from modeldeck.planner.spec import PlanSpec
    from modeldeck.provider.base import Provider
    from modeldeck.results import Result
    from modeldeck.schedules.spec import ScheduleSpec
    from modeldeck.schedules.views import ScheduleView


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
        self._metered: MeteredClient | None = None  # the playground's, made on first use
        self._metered_lock = threading.Lock()
        record_config_change(self.store, settings, deck=self)

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
        if self._metered is not None:
            self._metered.close()
            self._metered = None
        if self._provider is not None:
            self._provider.close()
        self.store.dispose()

    def emit(self, event: events.Event) -> None:
        """Publish an event to every plugin (each in isolation; failures are logged), then
        raise the alert it calls for, if any (failed execution, console import, drift)."""
        events.publish(event, self)
        event_alerts.raise_for_event(self, event)

    # --- claimed rows: work done once across replicas (store/claims.py)
    def claim_once(self, kind: str, key: str) -> bool:
        """Claim `key` in the store: True for the one process that claimed it first."""
        from modeldeck.store import claims

        with self.store.session() as session:
            return claims.claim(session, kind, key, by=self.worker_id)

    def claimed_keys(self, kind: str, since: datetime | None = None) -> list[str]:
        """The keys claimed under `kind` (oldest first)."""
        from modeldeck.store import claims

        with self.store.session() as session:
            return claims.claimed(session, kind, since)

    def release_claim(self, key: str) -> None:
        """Forget a claim whose work failed, so it may be tried again."""
        from modeldeck.store import claims

        with self.store.session() as session:
            claims.release(session, key)

    def prune_claims(self, kind: str, before: datetime) -> int:
        """Drop claims of `kind` older than `before` (how many)."""
        from modeldeck.store import claims

        with self.store.session() as session:
            return claims.prune(session, kind, before)

    # --- catalog and estimates
    def models(self) -> list[dict[str, Any]]:
        return self.catalog.rows()

    def estimate(self, spec: DeploySpec) -> Estimate:
        from modeldeck.billing import estimate

        return estimate(spec, self.catalog, self.rules)

    # --- calling deployed models and charting them (in-process only: both read the store)
    def metered_client(self) -> MeteredClient:
        """A metering client on this deck's Model Studio and store: every call it makes is
        recorded and priced, so it shows in `cost` (the notebook's playground); close it."""
        from modeldeck.metering import MeteredClient
        from modeldeck.provider.factory import endpoint

        base_url, api_key = endpoint(self.settings)
        return MeteredClient(
            base_url,
            api_key,
            store=self.store,
            catalog=self.catalog,
            journal_dir=self.settings.data_dir / "metering-journal",
            workspace=self.settings.provider.workspace,
            timeout=self.settings.provider.timeout_seconds,
        )

    def playground(self, ref: str, prompt: str, max_tokens: int = 256) -> Iterator[PlaygroundEvent]:
        """Stream a prompt to a RUNNING deployment through the metering client (so the call is
        recorded and priced, and shows in `cost`): the answer's chunks, then the call."""
        from modeldeck.errors import ValidationFailed
        from modeldeck.metering.playground import PlaygroundPrompt, stream_prompt

        checked = PlaygroundPrompt(deployment=ref, prompt=prompt, max_tokens=max_tokens)
        dep = self.get_deployment(checked.deployment)
        if str(dep.status) != "RUNNING" or not dep.deployed_model:
            raise ValidationFailed(
                f"{dep.id} is {dep.status}: only a RUNNING deployment answers prompts.",
                hint="Wait for the deploy to finish (refresh), or pick another deployment.",
            )
        with self._metered_lock:
            if self._metered is None:
                self._metered = self.metered_client()
            client = self._metered
        return stream_prompt(client, dep.deployed_model, checked.prompt, checked.max_tokens)

    def usage_chart(self, ref: str, since: datetime, until: datetime) -> UsageChart:
        """Input tokens per minute of a PTU deployment against its purchased input TPM."""
        from modeldeck.errors import ValidationFailed
        from modeldeck.spend.charts import usage_chart_data

        dep = self.get_deployment(ref)
        if not dep.deployed_model or not dep.input_tpm:
            raise ValidationFailed(
                f"{dep.id} has no purchased input TPM to chart usage against.",
                hint="Usage charts are for PTU deployments (in=<TPM>).",
            )
        with self.store.session() as session:
            return usage_chart_data(session, dep.deployed_model, dep.input_tpm, since, until)

    def budget_chart(self, name: str, *, now: datetime | None = None) -> SpendChart:
        """A budget's spend over its period: actual per day, the forecast, the budget line."""
        from modeldeck.errors import ValidationFailed
        from modeldeck.spend.charts import budget_chart_data

        lines = self.budgets(now=now).lines
        item = next((b.forecast for b in lines if b.forecast.budget.name == name), None)
        if item is None:
            raise ValidationFailed(
                f"No budget is named {name!r}.",
                hint=f"Budgets: {', '.join(b.forecast.budget.name for b in lines) or 'none'}.",
            )
        with self.store.session() as session:
            return budget_chart_data(session, self.catalog, item, self.rules)

    # --- identity
    def resolve_actor(self, surface: Surface, external_id: str) -> Actor:
        return identity.resolve_actor(self.settings, surface, external_id)

    # --- requests
    def request_deploy(
        self,
        spec: DeploySpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        return requests.request_deploy(self, spec, actor, reason, idempotency_key)

    def request_scale(
        self,
        spec: ScaleSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        return requests.request_scale(self, spec, actor, reason, idempotency_key)

    def request_limits(
        self,
        spec: LimitsSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        return requests.request_limits(self, spec, actor, reason, idempotency_key)

    def request_renew(
        self,
        spec: RenewSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        from modeldeck.workflow import renewals

        return renewals.request_renew(self, spec, actor, reason, idempotency_key)

    def request_schedule(
        self,
        spec: ScheduleSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
        now: datetime | None = None,
    ) -> RequestRecord:
        """Ask for capacity on a schedule (or a one-off window), approved for its maximum."""
        from modeldeck.workflow import schedule_requests

        return schedule_requests.request_schedule(
            self, spec, actor, reason, idempotency_key, now=now
        )

    def schedules(self, *, now: datetime | None = None) -> list[ScheduleView]:
        """Every capacity schedule with its state and next change."""
        from modeldeck.workflow import schedules

        return schedules.schedule_views(self, now)

    def cancel_schedule(
        self, schedule_id: str, actor: Actor, reason: str | None = None
    ) -> ScheduleView:
        """End a schedule (active or paused); audited, `ScheduleCancelled`."""
        from modeldeck.workflow import schedules

        return schedules.cancel_schedule(self, schedule_id, actor, reason)

    def request_unpublish(
        self,
        deployment: str,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        return requests.request_unpublish(self, deployment, actor, reason, idempotency_key)

    # --- decisions
    def approve(self, request_id: str, actor: Actor) -> DecisionOutcome:
        return decisions.decide(self, request_id, actor, "approve", None)

    def reject(self, request_id: str, actor: Actor, reason: str | None = None) -> DecisionOutcome:
        return decisions.decide(self, request_id, actor, "reject", reason)

    def withdraw(self, request_id: str, actor: Actor) -> WithdrawOutcome:
        return decisions.withdraw(self, request_id, actor)

    def resolve_request(
        self, request_id: str, actor: Actor, reason: str | None = None
    ) -> RequestRecord:
        return decisions.resolve_request(self, request_id, actor, reason)

    def expire_due(self) -> None:
        """Move pending requests past their TTL to expired (each once, announced by an event)."""
        decisions.expire_due(self)

    # --- execution (exactly once: only the claimer runs it; the provider dedups by request id)
    def execute(self, request_id: str) -> RequestRecord:
        """Claim an approved request (compare-and-set) and carry it out; a no-op if claimed."""
        return execution.execute(self, request_id)

    def run_claimed(self, request_id: str) -> RequestRecord:
        """Carry out a request this process holds the claim of, and record the outcome once."""
        return execution.run_claimed(self, request_id)

    # --- reads
    def get_request(self, request_id: str) -> RequestRecord:
        with self.store.session() as session:
            return repo.load_request(session, request_id)

    def list_requests(self, status: str | None = None) -> list[RequestRecord]:
        self.expire_due()
        with self.store.session() as session:
            return request_rows.list_requests(session, status)

    def set_request_ref(
        self, request_id: str, key: str, value: str, *, by: Actor | None = None
    ) -> None:
        """Record where a surface shows a request. `by` is the service identity calling over
        REST, audited as `set_ref`; in-process callers are the surface's own code."""
        with self.store.session() as session:
            request_rows.set_ref(session, request_id, key, value)
            if by is not None:
                repo.audit(
                    session,
                    actor=by.principal,
                    surface=by.surface,
                    action="set_ref",
                    subject=request_id,
                    key=key,
                    value=value,
                )

    def list_deployments(self, include_deleted: bool = False) -> list[DeploymentRecord]:
        with self.store.session() as session:
            return [
                repo.deployment_to_record(r)
                for r in repo.list_deployments(session, include_deleted)
            ]

    def get_deployment(self, ref: str) -> DeploymentRecord:
        with self.store.session() as session:
            return repo.deployment_to_record(repo.find_deployment(session, ref))

    def cost(
        self, target: str | None = None, period: str | None = None, *, now: datetime | None = None
    ) -> costs.CostReport:
        """Spend of one deployment (or `all`) over a period (`month` when not given)."""
        return costs.cost_report(self, target, period, now)

    # --- the capacity planner
    def plan(self, spec: PlanSpec, *, now: datetime | None = None) -> PlanResult:
        """Plan the spec's trace (a CSV, this deployment's metering or Prometheus)."""
        from modeldeck.workflow import planning

        dep = self.get_deployment(spec.deployment) if spec.deployment else None
        return planning.make_plan(
            spec, self.settings, self.catalog, self.rules, store=self.store, deployment=dep,
            now=now,
        )  # fmt: skip

    # --- spend control (budgets, forecasts, alerts)
    def budgets(self, *, now: datetime | None = None) -> spend.BudgetReport:
        """Every budget in force (configured, or set with `budget set`) with its forecast."""
        return spend.budget_report(self, now)

    def set_budget(
        self, fields: dict[str, Any], actor: Actor, *, now: datetime | None = None
    ) -> Budget:
        """Add or replace a budget in the store (admins only); audited, `BudgetChanged`."""
        return spend.set_budget(self, fields, actor, now)

    def forecast(
        self, target: str | None = None, period: str | None = None, *, now: datetime | None = None
    ) -> spend.ForecastReport:
        """Spend to date and still to come this period, per deployment (or one)."""
        return spend.forecast_report(self, target, period, now)

    def weekly_digest(self, now: datetime | None = None) -> Any:
        """The weekly digest's facts (spend.digest.WeeklyDigest) for the 7 days up to `now`."""
        from modeldeck.spend.digest import weekly_digest

        return weekly_digest(self, now)

    def alerts(self, *, now: datetime | None = None) -> spend.AlertsReport:
        """Evaluate the alert rules once, raise what is due, list this month's alerts."""
        return spend.raise_alerts(self, now)

    # --- audit and tokens (the server checks the caller's `read` / `configure` capability)
    def audit(self, limit: int = 0, subject: str | None = None) -> list[dict[str, Any]]:
        """Audit records oldest first (the newest `limit` when limit > 0)."""
        from modeldeck.audit import read_audit

        return read_audit(self.store, limit=limit, subject=subject)

    def create_token(self, principal: str, *, by: str | None = None) -> TokenGrant:
        """A new API token for a configured principal (the token is in the answer, once)."""
        if self.settings.principals and principal not in {p.name for p in self.settings.principals}:
            raise UserError(
                f"{principal!r} is not a configured principal.",
                hint="Add it to [[principals]] in modeldeck.toml first.",
            )
        token_id, secret = tokens.create_token(self.store, principal, deck=self, by=by)
        return TokenGrant(id=token_id, principal=principal, token=secret)

    def list_tokens(self, *, by: str | None = None) -> list[dict[str, str | None]]:
        """Token ids, owners and dates (never the tokens); the listing is audited (over REST)."""
        return tokens.list_tokens(self.store, deck=self, by=by, surface="api")

    def revoke_token(self, token_id: str, *, by: str | None = None) -> None:
        tokens.revoke_token(self.store, token_id, deck=self, by=by)

    # --- sync with the provider
    def refresh(self) -> list[DeploymentRecord]:
        """One reconciliation pass (statuses, imports, drift, recovery, timelines)."""
        reconcile.Reconciler(self).run_once()
        return self.list_deployments()

    # --- the grammar
    def run(
        self, command: CommandModel, actor: Actor, *, idempotency_key: str | None = None
    ) -> Result:
        from modeldeck.commands import run_command

        return run_command(self, command, actor, idempotency_key=idempotency_key)
