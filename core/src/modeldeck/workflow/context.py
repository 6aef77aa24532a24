"""What the workflow steps need from the deck, as a protocol (so no step imports `Deck`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from modeldeck.billing.rules import BillingRules
    from modeldeck.catalog import Catalog
    from modeldeck.domain import DeploymentRecord, DeploySpec, Estimate, RequestRecord
    from modeldeck.events import Event
    from modeldeck.provider.base import Provider
    from modeldeck.settings import Settings
    from modeldeck.store import Store


class WorkflowContext(Protocol):
    """The parts a step uses: settings, store, provider, catalog and rules, and `emit`."""

    settings: Settings
    store: Store
    worker_id: str

    @property
    def provider(self) -> Provider: ...

    @property
    def catalog(self) -> Catalog: ...

    @property
    def rules(self) -> BillingRules: ...

    def emit(self, event: Event) -> None:
        """Publish an event (already recorded in the audit log) to every plugin."""
        ...

    def estimate(self, spec: DeploySpec) -> Estimate: ...

    def get_request(self, request_id: str) -> RequestRecord: ...

    def get_deployment(self, ref: str) -> DeploymentRecord: ...

    def list_deployments(self, include_deleted: bool = False) -> list[DeploymentRecord]: ...
