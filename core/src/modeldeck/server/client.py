"""`RemoteDeck`: the deck interface over the server's REST API (notebooks and bots in team mode)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from modeldeck.budgets.models import Budget
from modeldeck.charts.data import SpendChart, UsageChart
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
from modeldeck.errors import ModeldeckRuntimeError
from modeldeck.grammar import CommandModel
from modeldeck.identity.tokens import TokenGrant
from modeldeck.metering.playground import PlaygroundEvent, PlaygroundPrompt
from modeldeck.planner import PlanResult
from modeldeck.planner.spec import PlanSpec
from modeldeck.results import Result, result_from_json
from modeldeck.schedules.spec import ScheduleSpec
from modeldeck.schedules.views import ScheduleView
from modeldeck.server.errors import from_body
from modeldeck.workflow.costs import CostReport
from modeldeck.workflow.spend import AlertsReport, BudgetReport, ForecastReport

T = TypeVar("T")


class RemoteDeck:
    """Implements :class:`modeldeck.api.DeckAPI` by calling a modeldeck server."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __repr__(self) -> str:
        return f"RemoteDeck({self.url!r})"

    def close(self) -> None:
        self._http.close()

    def _call(
        self,
        method: str,
        path: str,
        out: Any,
        body: Any = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> Any:
        payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
        try:
            resp = self._http.request(
                method,
                path,
                json=payload,
                headers=headers,
                params={k: v for k, v in params.items() if v is not None},
            )
        except httpx.HTTPError as exc:
            raise ModeldeckRuntimeError(
                f"Cannot reach the modeldeck server at {self.url} ({type(exc).__name__}).",
                hint="Is `modeldeck up` or `modeldeck server` running there?",
            ) from None
        if resp.status_code >= 400:
            try:
                data = resp.json()
            except ValueError:
                data = None
            raise from_body(resp.status_code, data)
        return TypeAdapter(out).validate_python(resp.json())

    def models(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/models", list[dict[str, Any]])

    def estimate(self, spec: DeploySpec) -> Estimate:
        return self._call("POST", "/api/estimate", Estimate, spec)

    def request_deploy(
        self,
        spec: DeploySpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        body = {"spec": spec.model_dump(mode="json"), "actor": actor.model_dump(), "reason": reason}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/api/requests/deploy", RequestRecord, body, headers)

    def request_scale(
        self,
        spec: ScaleSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        body = {"spec": spec.model_dump(mode="json"), "actor": actor.model_dump(), "reason": reason}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/api/requests/scale", RequestRecord, body, headers)

    def request_limits(
        self,
        spec: LimitsSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        body = {"spec": spec.model_dump(mode="json"), "actor": actor.model_dump(), "reason": reason}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/api/requests/limits", RequestRecord, body, headers)

    def request_renew(
        self,
        spec: RenewSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        body = {"spec": spec.model_dump(mode="json"), "actor": actor.model_dump(), "reason": reason}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/api/requests/renew", RequestRecord, body, headers)

    def request_schedule(
        self,
        spec: ScheduleSpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        body = {"spec": spec.model_dump(mode="json"), "actor": actor.model_dump(), "reason": reason}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/api/requests/schedule", RequestRecord, body, headers)

    def schedules(self) -> list[ScheduleView]:
        return self._call("GET", "/api/schedules", list[ScheduleView])

    def cancel_schedule(
        self, schedule_id: str, actor: Actor, reason: str | None = None
    ) -> ScheduleView:
        body = {"actor": actor.model_dump(), "reason": reason}
        return self._call("POST", f"/api/schedules/{schedule_id}/cancel", ScheduleView, body)

    def request_unpublish(
        self,
        deployment: str,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        body = {"deployment": deployment, "actor": actor.model_dump(), "reason": reason}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/api/requests/unpublish", RequestRecord, body, headers)

    def approve(self, request_id: str, actor: Actor) -> DecisionOutcome:
        body = {"actor": actor.model_dump()}
        return self._call("POST", f"/api/requests/{request_id}/approve", DecisionOutcome, body)

    def reject(self, request_id: str, actor: Actor, reason: str | None = None) -> DecisionOutcome:
        body = {"actor": actor.model_dump(), "reason": reason}
        return self._call("POST", f"/api/requests/{request_id}/reject", DecisionOutcome, body)

    def withdraw(self, request_id: str, actor: Actor) -> WithdrawOutcome:
        body = {"actor": actor.model_dump()}
        return self._call("POST", f"/api/requests/{request_id}/withdraw", WithdrawOutcome, body)

    def resolve_request(
        self, request_id: str, actor: Actor, reason: str | None = None
    ) -> RequestRecord:
        body = {"actor": actor.model_dump(), "reason": reason}
        return self._call("POST", f"/api/requests/{request_id}/resolve", RequestRecord, body)

    def get_request(self, request_id: str) -> RequestRecord:
        return self._call("GET", f"/api/requests/{request_id}", RequestRecord)

    def list_requests(self, status: str | None = None) -> list[RequestRecord]:
        return self._call("GET", "/api/requests", list[RequestRecord], status=status)

    def set_request_ref(self, request_id: str, key: str, value: str) -> None:
        self._call("PUT", f"/api/requests/{request_id}/refs", dict, {"key": key, "value": value})

    def list_deployments(self, include_deleted: bool = False) -> list[DeploymentRecord]:
        return self._call(
            "GET",
            "/api/deployments",
            list[DeploymentRecord],
            include_deleted=str(include_deleted).lower(),
        )

    def get_deployment(self, ref: str) -> DeploymentRecord:
        return self._call("GET", f"/api/deployments/{ref}", DeploymentRecord)

    def cost(self, target: str | None = None, period: str | None = None) -> CostReport:
        return self._call("GET", "/api/cost", CostReport, target=target, period=period)

    def budgets(self) -> BudgetReport:
        return self._call("GET", "/api/budgets", BudgetReport)

    def set_budget(self, fields: dict[str, Any], actor: Actor) -> Budget:
        sent = {k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items()}
        body = {"fields": sent, "actor": actor.model_dump()}
        return self._call("PUT", "/api/budgets", Budget, body)

    def forecast(self, target: str | None = None, period: str | None = None) -> ForecastReport:
        return self._call("GET", "/api/forecast", ForecastReport, target=target, period=period)

    def alerts(self) -> AlertsReport:
        return self._call("POST", "/api/alerts", AlertsReport)

    def audit(self, limit: int = 0, subject: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/api/audit", list[dict[str, Any]], limit=limit, subject=subject)

    def create_token(self, principal: str) -> TokenGrant:
        grant = self._call("POST", "/api/tokens", dict[str, str], {"principal": principal})
        return TokenGrant.model_validate(grant)

    def list_tokens(self) -> list[dict[str, str | None]]:
        return self._call("GET", "/api/tokens", list[dict[str, str | None]])

    def revoke_token(self, token_id: str) -> None:
        self._call("DELETE", f"/api/tokens/{token_id}", dict)

    def refresh(self) -> list[DeploymentRecord]:
        return self._call("POST", "/api/deployments/refresh", list[DeploymentRecord])

    def usage_chart(self, ref: str, since: datetime, until: datetime) -> UsageChart:
        return self._call(
            "GET",
            "/api/charts/usage",
            UsageChart,
            deployment=ref,
            since=since.isoformat(),
            until=until.isoformat(),
        )

    def budget_chart(self, name: str) -> SpendChart:
        return self._call("GET", "/api/charts/budget", SpendChart, name=name)

    def playground(self, ref: str, prompt: str, max_tokens: int = 256) -> Iterator[PlaygroundEvent]:
        """The server's metered call, streamed back as NDJSON events (refusals raise at once)."""
        body = PlaygroundPrompt(deployment=ref, prompt=prompt, max_tokens=max_tokens)
        try:
            response = self._http.send(
                self._http.build_request("POST", "/api/playground", json=body.model_dump()),
                stream=True,
            )
        except httpx.HTTPError as exc:
            raise ModeldeckRuntimeError(
                f"Cannot reach the modeldeck server at {self.url} ({type(exc).__name__}).",
                hint="Is `modeldeck up` or `modeldeck server` running there?",
            ) from None
        if response.status_code >= 400:
            response.read()
            response.close()
            try:
                data = response.json()
            except ValueError:
                data = None
            raise from_body(response.status_code, data)
        return self._events(response)

    def _events(self, response: httpx.Response) -> Iterator[PlaygroundEvent]:
        try:
            for line in response.iter_lines():
                if not line.strip():
                    continue
                event = PlaygroundEvent.model_validate_json(line)
                if event.error is not None:
                    raise ModeldeckRuntimeError(event.error)
                yield event
        except httpx.HTTPError as exc:
            raise ModeldeckRuntimeError(
                f"The playground stream from {self.url} broke ({type(exc).__name__})."
            ) from None
        finally:
            response.close()

    def resolve_actor(self, surface: Surface, external_id: str) -> Actor:
        body = {"surface": surface, "external_id": external_id}
        return self._call("POST", "/api/actors/resolve", Actor, body)

    def plan(self, spec: PlanSpec) -> PlanResult:
        """Plan on the server; a trace file is read here and sent as its text."""
        from modeldeck.planner.transport import with_trace_text

        return self._call("POST", "/api/plan", PlanResult, with_trace_text(spec))

    def run(
        self, command: CommandModel, actor: Actor, *, idempotency_key: str | None = None
    ) -> Result:
        """Send the parsed command as JSON; the server validates it with the same models."""
        from modeldeck.grammar import PlanCommand
        from modeldeck.planner.transport import with_trace_text

        if isinstance(command, PlanCommand):  # the server never reads a client's file names
            command = command.model_copy(update={"spec": with_trace_text(command.spec)})
        body = {"command": command.model_dump(mode="json"), "actor": actor.model_dump()}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return result_from_json(self._call("POST", "/api/run", dict[str, Any], body, headers))
