"""A fixture plugin implementing every hook modeldeck declares, recording each call.

The meta-test in test_hooks.py fails when a hookspec has no implementation here, so a new hook
cannot ship without a test plugin exercising it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from modeldeck.domain import Actor, DeploymentRecord, Estimate, PolicyDecision, RequestRecord
from modeldeck.events import Event
from modeldeck.hookspecs import hookimpl
from modeldeck.settings import Settings


class PluginSaidHello(Event):
    """An event class of the plugin's own (what ``register_events`` is for)."""

    name: ClassVar[str] = "everything_plugin_hello"
    greeting: str


class EverythingPlugin:
    """Implements every hook; names each call in `calls` (hook name -> list of kwargs)."""

    SSO_USER = "sso|everything"

    def __init__(self) -> None:
        self.calls: dict[str, list[dict[str, Any]]] = {}

    def _seen(self, hook: str, **kwargs: Any) -> None:
        self.calls.setdefault(hook, []).append(kwargs)

    @hookimpl
    def register_providers(self, register: Callable[..., None]) -> None:
        self._seen("register_providers")

    @hookimpl
    def register_routes(self, register: Callable[..., None], deck: Any, settings: Settings) -> None:
        self._seen("register_routes")

    @hookimpl
    def register_catalogs(self, register: Callable[..., None]) -> None:
        self._seen("register_catalogs")

    @hookimpl
    def register_events(self, register: Callable[[type[Event]], None]) -> None:
        self._seen("register_events")
        register(PluginSaidHello)

    @hookimpl
    def evaluate_policy(
        self, request: RequestRecord, estimate: Estimate | None, settings: Settings
    ) -> PolicyDecision | None:
        self._seen("evaluate_policy", request=request)
        return None  # defer to the built-in thresholds

    @hookimpl
    def actor_from_identity(
        self, surface: str, external_id: str, settings: Settings
    ) -> Actor | None:
        self._seen("actor_from_identity", external_id=external_id)
        if external_id == self.SSO_USER:
            return Actor(
                principal="sso-sam", surface="api", roles=["deployer"], external_id=external_id
            )
        return None

    @hookimpl
    def track_event(self, event: Event, deck: Any) -> None:
        self._seen("track_event", event=event)

    @hookimpl
    def request_created(self, request: RequestRecord, deck: Any) -> None:
        self._seen("request_created", request=request)

    @hookimpl
    def request_decided(self, request: RequestRecord, deck: Any) -> None:
        self._seen("request_decided", request=request)

    @hookimpl
    def deployment_status_changed(
        self, deployment: DeploymentRecord, old_status: str | None, new_status: str, deck: Any
    ) -> None:
        self._seen("deployment_status_changed", old_status=old_status, new_status=new_status)

    @hookimpl
    def upfront_timeline(
        self, deployment: DeploymentRecord, order: dict[str, Any], event: str, deck: Any
    ) -> None:
        self._seen("upfront_timeline", order=order, event=event)

    @hookimpl
    def startup(self, deck: Any, settings: Settings) -> list[Awaitable[Any]] | None:
        self._seen("startup")
        return None

    def events(self) -> list[Event]:
        return [c["event"] for c in self.calls.get("track_event", [])]
