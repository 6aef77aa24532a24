"""The provider interface: what a ``register_providers`` factory must return."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from modeldeck.provider.models import (
    CapacityInstance,
    CapacityOperation,
    CreateDeploymentRequest,
    DeployableModelPage,
    DeploymentInfo,
    DeploymentPage,
    PtuCapacity,
)


@runtime_checkable
class Provider(Protocol):
    """Model Studio's deployments API; :class:`ModelStudioClient` is the built-in implementation."""

    def create_deployment(
        self, body: CreateDeploymentRequest | dict[str, Any], *, idempotency_key: str | None = None
    ) -> DeploymentInfo:
        """Sent once with a suffix from the key; `adopted` on a found one; CreateNotApplied or
        CreateOutcomeUnknown after a lost answer (see docs/provider.md)."""
        ...

    def find_deployment(self, deployed_model: str) -> DeploymentInfo | None: ...

    def get_deployment(self, deployed_model: str) -> DeploymentInfo: ...

    def list_deployments(self, page_no: int = 1, page_size: int = 100) -> DeploymentPage: ...

    def iter_deployments(self, page_size: int = 100) -> Iterator[DeploymentInfo]: ...

    def scale_deployment(
        self,
        deployed_model: str,
        *,
        capacity: int | None = None,
        ptu_capacity: PtuCapacity | dict[str, Any] | None = None,
        instance_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> DeploymentInfo: ...

    def update_limits(
        self, deployed_model: str, *, rpm_limit: int | None = None, tpm_limit: int | None = None
    ) -> DeploymentInfo: ...

    def delete_deployment(
        self, deployed_model: str, *, idempotency_key: str | None = None
    ) -> DeploymentInfo: ...

    def list_capacity_instances(
        self, deployed_model: str, *, include_deleted: bool = False, page_size: int = 100
    ) -> list[CapacityInstance]: ...

    def renew(
        self,
        deployed_model: str,
        days: int,
        auto_renew: bool,
        instance_id: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> CapacityOperation: ...

    def wait_for_operation(
        self, deployed_model: str, operation_id: str, *, timeout: float | None = None
    ) -> CapacityOperation: ...

    def list_deployable_models(
        self,
        *,
        page_no: int = 1,
        page_size: int = 100,
        model_source: str | None = None,
        version: str | None = None,
    ) -> DeployableModelPage: ...

    def close(self) -> None: ...
