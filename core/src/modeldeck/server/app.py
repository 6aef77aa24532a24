"""The ASGI app: the deck's REST API (with OpenAPI), `/healthz`, `/metrics`, and plugin routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, TypeAdapter
from starlette.types import ASGIApp, Receive, Scope, Send

from modeldeck import identity, plugins, tokens
from modeldeck.budgets.models import Budget
from modeldeck.charts.data import SpendChart, UsageChart
from modeldeck.deck import Deck
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
from modeldeck.errors import ConfigError, PermissionDenied, Unauthenticated
from modeldeck.grammar import PlanCommand, validate_command
from modeldeck.metering.playground import PlaygroundEvent, PlaygroundPrompt
from modeldeck.planner import PlanResult
from modeldeck.planner.spec import PlanSpec
from modeldeck.planner.transport import require_trace_text
from modeldeck.registry import Registry
from modeldeck.schedules.spec import ScheduleSpec
from modeldeck.schedules.views import ScheduleView
from modeldeck.server import exposure
from modeldeck.server.handlers import document_errors, install_error_handlers
from modeldeck.server.middleware import BodySizeLimit, HostCheck, allowed_host_names
from modeldeck.settings import Settings
from modeldeck.workflow.costs import CostReport
from modeldeck.workflow.spend import AlertsReport, BudgetReport, ForecastReport

log = logging.getLogger(__name__)


class DeployBody(BaseModel):
    spec: DeploySpec
    actor: Actor
    reason: str | None = None


class ScaleBody(BaseModel):
    spec: ScaleSpec
    actor: Actor
    reason: str | None = None


class RenewBody(BaseModel):
    spec: RenewSpec
    actor: Actor
    reason: str | None = None


class LimitsBody(BaseModel):
    spec: LimitsSpec
    actor: Actor
    reason: str | None = None


class ScheduleBody(BaseModel):
    spec: ScheduleSpec
    actor: Actor
    reason: str | None = None


class UnpublishBody(BaseModel):
    deployment: str
    actor: Actor
    reason: str | None = None


# A submission's id: a replay with the same key answers with the first request, never a second.
idempotency_header = Header(
    default=None,
    alias="Idempotency-Key",
    description="One id per submission (e.g. a UUID); a replay answers with the first request.",
)


class DecideBody(BaseModel):
    actor: Actor
    reason: str | None = None


class RefBody(BaseModel):
    key: str
    value: str


class TokenBody(BaseModel):
    principal: str


class ResolveBody(BaseModel):
    surface: Surface
    external_id: str


class BudgetBody(BaseModel):
    fields: dict[str, Any]
    actor: Actor


class RunBody(BaseModel):
    """A parsed command (as `command_adapter` / a plugin verb's model dumps it) and who runs it."""

    command: dict[str, Any]
    actor: Actor


def create_app(deck: Deck, settings: Settings, *, reconcile_interval: float = 0) -> FastAPI:
    """Build the server around an in-process deck; plugins mount their routes through a hook."""
    counters: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = None
        if reconcile_interval > 0:
            task = asyncio.create_task(_refresh_loop(deck, reconcile_interval))
        yield
        if task is not None:
            task.cancel()

    app = FastAPI(
        title="modeldeck",
        version=_version(),
        description="Estimate, request, approve and account for Model Studio deployments.",
        lifespan=lifespan,
    )
    app.state.deck = deck
    app.state.settings = settings
    deployments_json = TypeAdapter(list[DeploymentRecord])

    def authenticate(request: Request) -> Actor | None:
        """Bearer token -> actor; without one (open mode only) the server's own identity.

        Required once principals are configured (team mode). Never taken from the body.
        """
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            try:
                principal = tokens.principal_for(deck.store, header[7:].strip())
            except PermissionDenied as exc:  # an unknown token is not authenticated: 401
                raise Unauthenticated(exc.message, hint=exc.hint) from None
            return identity.actor_for_principal(settings, principal, "api")
        if settings.principals:
            raise Unauthenticated(
                "This modeldeck server needs an API token.",
                hint="Create one with `modeldeck token create <you>` and pass it as "
                "`Authorization: Bearer <token>` (RemoteDeck(url, token=...)).",
            )
        return exposure.open_mode_actor(settings)

    def as_actor(auth: Actor | None, claimed: Actor) -> Actor:
        """The token (or the open-mode server identity) decides who acts; the body only says
        from which surface."""
        if auth is None:  # not reached: authenticate always names someone or refuses
            raise Unauthenticated("This modeldeck server could not tell who is calling.")
        surface = claimed.surface if claimed.surface in ("jupyter", "cli", "api") else "api"
        return auth.model_copy(update={"surface": surface})

    def reader(request: Request) -> Actor | None:
        """A token holder whose roles grant `read` (every role but none); open mode reads."""
        auth = authenticate(request)
        if auth is not None:
            identity.require(auth, "read")
        return auth

    def configurer(request: Request) -> Actor | None:
        """A token holder whose roles grant `configure` (admins); open mode configures."""
        auth = authenticate(request)
        if auth is not None:
            identity.require(auth, "configure")
        return auth

    auth_dep = Depends(authenticate)
    read_dep = Depends(reader)
    configure_dep = Depends(configurer)

    install_error_handlers(app, counters)
    document_errors(app)
    # Outermost first: the Host check, then the body limit, before any route or plugin mount.
    app.add_middleware(BodySizeLimit, limit=settings.server.max_body_bytes)
    app.add_middleware(
        HostCheck,
        names=allowed_host_names(
            settings.server.host, settings.server.url, settings.server.allowed_hosts
        ),
    )

    app.add_middleware(RequestCounter, counters=counters)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, Any]:
        from modeldeck import health

        found = health.checks()
        status = "ok" if all(c["ok"] for c in found.values()) else "degraded"
        return {
            "status": status,
            "version": _version(),
            "store": deck.store.dialect,
            "checks": found,
        }

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def metrics(auth: Actor | None = auth_dep) -> str:
        lines = [f"modeldeck_{name} {value}" for name, value in sorted(counters.items())]
        pending = len(deck.list_requests(status="pending"))
        lines.append(f"modeldeck_requests_pending {pending}")
        lines.append(f"modeldeck_deployments {len(deck.list_deployments())}")
        return "\n".join(lines) + "\n"

    @app.get("/api/models", tags=["catalog"])
    def models(auth: Actor | None = read_dep) -> list[dict[str, Any]]:
        return deck.models()

    # The reads people wait on answer their model's JSON directly: FastAPI would validate the
    # returned models against the response model again before dumping them (same JSON).
    @app.post("/api/estimate", tags=["catalog"], response_model=Estimate)
    def estimate(spec: DeploySpec, auth: Actor | None = read_dep) -> Response:
        return _json(deck.estimate(spec).model_dump_json())

    @app.post("/api/plan", tags=["catalog"])
    def plan(spec: PlanSpec, auth: Actor | None = read_dep) -> PlanResult:
        require_trace_text(spec)
        return deck.plan(spec)

    @app.get("/api/deployments", tags=["deployments"], response_model=list[DeploymentRecord])
    def deployments(include_deleted: bool = False, auth: Actor | None = read_dep) -> Response:
        return _json(deployments_json.dump_json(deck.list_deployments(include_deleted)))

    @app.post("/api/deployments/refresh", tags=["deployments"])
    def refresh(auth: Actor | None = read_dep) -> list[DeploymentRecord]:
        return deck.refresh()

    @app.get("/api/deployments/{ref}", tags=["deployments"])
    def deployment(ref: str, auth: Actor | None = read_dep) -> DeploymentRecord:
        return deck.get_deployment(ref)

    @app.post("/api/requests/deploy", tags=["requests"])
    def request_deploy(
        body: DeployBody, auth: Actor | None = auth_dep, key: str | None = idempotency_header
    ) -> RequestRecord:
        return deck.request_deploy(
            body.spec, as_actor(auth, body.actor), body.reason, idempotency_key=key
        )

    @app.post("/api/requests/scale", tags=["requests"])
    def request_scale(
        body: ScaleBody, auth: Actor | None = auth_dep, key: str | None = idempotency_header
    ) -> RequestRecord:
        return deck.request_scale(
            body.spec, as_actor(auth, body.actor), body.reason, idempotency_key=key
        )

    @app.post("/api/requests/renew", tags=["requests"])
    def request_renew(
        body: RenewBody, auth: Actor | None = auth_dep, key: str | None = idempotency_header
    ) -> RequestRecord:
        return deck.request_renew(
            body.spec, as_actor(auth, body.actor), body.reason, idempotency_key=key
        )

    @app.post("/api/requests/limits", tags=["requests"])
    def request_limits(
        body: LimitsBody, auth: Actor | None = auth_dep, key: str | None = idempotency_header
    ) -> RequestRecord:
        return deck.request_limits(
            body.spec, as_actor(auth, body.actor), body.reason, idempotency_key=key
        )

    @app.post("/api/requests/schedule", tags=["requests"])
    def request_schedule(
        body: ScheduleBody, auth: Actor | None = auth_dep, key: str | None = idempotency_header
    ) -> RequestRecord:
        return deck.request_schedule(
            body.spec, as_actor(auth, body.actor), body.reason, idempotency_key=key
        )

    @app.get("/api/schedules", tags=["deployments"])
    def schedules(auth: Actor | None = read_dep) -> list[ScheduleView]:
        return deck.schedules()

    @app.post("/api/schedules/{schedule_id}/cancel", tags=["deployments"])
    def cancel_schedule(
        schedule_id: str, body: DecideBody, auth: Actor | None = auth_dep
    ) -> ScheduleView:
        return deck.cancel_schedule(schedule_id, as_actor(auth, body.actor), body.reason)

    @app.get("/api/cost", tags=["costs"])
    def cost(
        target: str | None = None, period: str | None = None, auth: Actor | None = read_dep
    ) -> CostReport:
        return deck.cost(target, period)

    @app.get("/api/forecast", tags=["costs"])
    def forecast(
        target: str | None = None, period: str | None = None, auth: Actor | None = read_dep
    ) -> ForecastReport:
        return deck.forecast(target, period)

    @app.get("/api/budgets", tags=["costs"])
    def budgets(auth: Actor | None = read_dep) -> BudgetReport:
        return deck.budgets()

    @app.put("/api/budgets", tags=["costs"])
    def set_budget(body: BudgetBody, auth: Actor | None = auth_dep) -> Budget:
        return deck.set_budget(body.fields, as_actor(auth, body.actor))

    @app.get("/api/charts/usage", tags=["costs"])
    def usage_chart(
        deployment: str, since: datetime, until: datetime, auth: Actor | None = read_dep
    ) -> UsageChart:
        return deck.usage_chart(deployment, since, until)

    @app.get("/api/charts/budget", tags=["costs"])
    def budget_chart(name: str, auth: Actor | None = read_dep) -> SpendChart:
        return deck.budget_chart(name)

    @app.post("/api/playground", tags=["deployments"])
    def playground(body: PlaygroundPrompt, auth: Actor | None = auth_dep) -> StreamingResponse:
        """NDJSON lines of `PlaygroundEvent`s; calling a model spends, so it needs `request`."""
        if auth is not None:
            identity.require(auth, "request")
        events = deck.playground(body.deployment, body.prompt, body.max_tokens)  # checked now
        return StreamingResponse(ndjson_events(events), media_type="application/x-ndjson")

    @app.post("/api/alerts", tags=["costs"])
    def alerts(auth: Actor | None = read_dep) -> AlertsReport:
        return deck.alerts()

    @app.post("/api/requests/unpublish", tags=["requests"])
    def request_unpublish(
        body: UnpublishBody, auth: Actor | None = auth_dep, key: str | None = idempotency_header
    ) -> RequestRecord:
        return deck.request_unpublish(
            body.deployment, as_actor(auth, body.actor), body.reason, idempotency_key=key
        )

    @app.get("/api/requests", tags=["requests"])
    def requests(status: str | None = None, auth: Actor | None = read_dep) -> list[RequestRecord]:
        return deck.list_requests(status)

    @app.get("/api/requests/{request_id}", tags=["requests"])
    def get_request(request_id: str, auth: Actor | None = read_dep) -> RequestRecord:
        return deck.get_request(request_id)

    @app.post("/api/requests/{request_id}/approve", tags=["requests"])
    def approve(
        request_id: str, body: DecideBody, auth: Actor | None = auth_dep
    ) -> DecisionOutcome:
        return deck.approve(request_id, as_actor(auth, body.actor))

    @app.post("/api/requests/{request_id}/reject", tags=["requests"])
    def reject(request_id: str, body: DecideBody, auth: Actor | None = auth_dep) -> DecisionOutcome:
        return deck.reject(request_id, as_actor(auth, body.actor), body.reason)

    @app.post("/api/requests/{request_id}/withdraw", tags=["requests"])
    def withdraw(
        request_id: str, body: DecideBody, auth: Actor | None = auth_dep
    ) -> WithdrawOutcome:
        return deck.withdraw(request_id, as_actor(auth, body.actor))

    @app.post("/api/requests/{request_id}/resolve", tags=["requests"])
    def resolve_request(
        request_id: str, body: DecideBody, auth: Actor | None = auth_dep
    ) -> RequestRecord:
        return deck.resolve_request(request_id, as_actor(auth, body.actor), body.reason)

    @app.put("/api/requests/{request_id}/refs", tags=["requests"])
    def set_ref(request_id: str, body: RefBody, auth: Actor | None = auth_dep) -> dict[str, str]:
        # Only a surface's own service identity says where a request is shown (a viewer
        # rewriting a card's refs could hide its buttons).
        if auth is not None:
            identity.require(auth, "refs")
        deck.set_request_ref(request_id, body.key, body.value, by=auth)
        return {"status": "ok"}

    @app.get("/api/audit", tags=["audit"])
    def audit(
        limit: int = 0, subject: str | None = None, auth: Actor | None = read_dep
    ) -> list[dict[str, Any]]:
        return deck.audit(limit, subject)

    @app.post("/api/tokens", tags=["identity"])
    def create_token(body: TokenBody, auth: Actor | None = configure_dep) -> dict[str, str]:
        grant = deck.create_token(body.principal, by=auth.principal if auth else None)
        return {
            "id": grant.id,
            "principal": grant.principal,
            "token": grant.token.get_secret_value(),
        }

    @app.get("/api/tokens", tags=["identity"])
    def list_tokens(auth: Actor | None = configure_dep) -> list[dict[str, str | None]]:
        return deck.list_tokens(by=auth.principal if auth else None)

    @app.delete("/api/tokens/{token_id}", tags=["identity"])
    def revoke_token(token_id: str, auth: Actor | None = configure_dep) -> dict[str, str]:
        deck.revoke_token(token_id, by=auth.principal if auth else None)
        return {"status": "ok"}

    @app.post("/api/actors/resolve", tags=["identity"])
    def resolve(body: ResolveBody, auth: Actor | None = auth_dep) -> Actor:
        if auth is not None:
            return as_actor(auth, Actor(principal=auth.principal, surface=body.surface))
        return deck.resolve_actor(body.surface, body.external_id)

    @app.post("/api/run", tags=["commands"])
    def run(
        body: RunBody, auth: Actor | None = auth_dep, key: str | None = idempotency_header
    ) -> dict[str, Any]:
        command = validate_command(body.command)  # the same models the parser produces
        if isinstance(command, PlanCommand):
            require_trace_text(command.spec)
        result = deck.run(command, as_actor(auth, body.actor), idempotency_key=key)
        return result.model_dump(mode="json")

    _mount_plugin_routes(app, deck, settings)
    return app


def _mount_plugin_routes(app: FastAPI, deck: Deck, settings: Settings) -> None:
    mounts = Registry("route")

    def register(path: str, asgi_app: Any, name: str | None = None) -> None:
        if not path.startswith("/") or path.startswith("/api/") or path in ("/healthz", "/metrics"):
            raise ConfigError(f"A plugin tried to mount {path!r}, a path modeldeck reserves.")
        mounts.register(path, asgi_app, owner=name or "a plugin")

    plugins.hook().register_routes(register=register, deck=deck, settings=settings)
    for path, asgi_app in mounts.items.items():
        if isinstance(asgi_app, APIRouter):
            app.include_router(asgi_app, prefix=path)
        else:
            app.mount(path, asgi_app)
        log.info("mounted plugin routes at %s", path)


async def _refresh_loop(deck: Deck, interval: float) -> None:
    """Keep deployment statuses current so status hooks fire without anyone asking."""
    while True:
        try:
            await asyncio.to_thread(deck.refresh)
        except Exception:
            log.exception("background refresh failed")
        await asyncio.sleep(interval)


class RequestCounter:
    """Counts HTTP requests for /metrics as a plain ASGI middleware (`@app.middleware("http")`
    runs every request through Starlette's BaseHTTPMiddleware, a large share of a short read)."""

    def __init__(self, app: ASGIApp, counters: Counter[str]) -> None:
        self.app = app
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.counters["http_requests_total"] += 1
        await self.app(scope, receive, send)


def _json(body: str | bytes) -> Response:
    """An answer already serialized by its pydantic model."""
    return Response(content=body, media_type="application/json")


def _version() -> str:
    from modeldeck import __version__

    return __version__


def ndjson_events(events: Iterator[PlaygroundEvent]) -> Iterator[str]:
    """One JSON line per event; a failure after the answer began becomes an `error` event
    (the HTTP status is already sent), with the error's words, never a traceback."""
    from modeldeck.errors import ModeldeckError

    try:
        for event in events:
            yield event.model_dump_json() + "\n"
    except ModeldeckError as exc:
        yield PlaygroundEvent(error=str(exc)).model_dump_json() + "\n"
    except Exception as exc:  # logged in full, sent as one line
        log.exception("playground stream failed")
        yield (
            PlaygroundEvent(error=f"Unexpected error ({type(exc).__name__}).").model_dump_json()
            + "\n"
        )
