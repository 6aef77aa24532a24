"""Typed Model Studio request and response bodies that keep unknown fields and unknown statuses.

The real service adds fields and statuses over time; every model here has ``extra="allow"`` and
``status`` is a plain string (see :attr:`DeploymentInfo.known_status`). ``gmt_*`` times are Beijing
local time without a zone on the wire; they are exposed as timezone-aware datetimes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modeldeck.domain import DeploymentStatus
from modeldeck.timeutil import BEIJING


class _Open(BaseModel):
    """Base: unknown fields kept (``model_extra``), names as on the wire."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _beijing_aware(value: Any) -> Any:
    """Parse a wire time; a naive time is Beijing local time (Model Studio's convention)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace(" ", "T").replace("Z", "+00:00"))
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=BEIJING)
    return value


class PtuCapacity(_Open):
    """Purchased provisioned throughput, in tokens per minute (the client converts the wire unit).

    Also read from the `input_tpm_quota` / `output_tpm_quota` shape some answers use.
    """

    input_tpm: int = 0
    output_tpm: int = 0
    thinking_output_tpm: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _quota_shape(cls, value: Any) -> Any:
        if isinstance(value, dict):
            value = dict(value)
            for alias, key in (
                ("input_tpm_quota", "input_tpm"),
                ("output_tpm_quota", "output_tpm"),
            ):
                if alias in value and value.get(key) is None:
                    value[key] = value.pop(alias)
        return value

    def tpm(self) -> dict[str, int]:
        """`{"input_tpm", "output_tpm"}` (and thinking when set), for comparisons and messages."""
        out = {"input_tpm": self.input_tpm, "output_tpm": self.output_tpm}
        if self.thinking_output_tpm is not None:
            out["thinking_output_tpm"] = self.thinking_output_tpm
        return out


class PrePaidInfo(_Open):
    """An upfront (reserved) order: `duration` in days."""

    duration: int | None = None
    auto_renewal: bool | None = None
    auto_renewal_duration: int | None = None
    auto_renewal_cycle: str | None = None


class CreateDeploymentRequest(_Open):
    """The body of `POST /deployments` (see the spec's create body fields)."""

    model_name: str
    plan: str
    name: str | None = None
    suffix: str | None = None
    capacity: int | None = None
    deploy_spec: str | None = None
    billing_method: str | None = None
    enable_thinking: bool | None = None
    max_context_length: int | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    ptu_capacity: PtuCapacity | None = None
    charge_type: str | None = None
    pre_paid_info: PrePaidInfo | None = None
    service_tier: str | None = None

    def to_body(self) -> dict[str, Any]:
        """The JSON body, without unset (None) fields."""
        return self.model_dump(exclude_none=True)


class DeploymentInfo(_Open):
    """One deployment (`output` of get/create/scale/update/delete, or a list item)."""

    deployed_model: str
    name: str | None = None
    model_name: str | None = None
    base_model: str | None = None
    status: str = "UNKNOWN"
    plan: str | None = None
    base_capacity: int | None = None
    capacity: int | None = None
    ready_capacity: int | None = None
    workspace_id: str | None = None
    charge_type: str | None = None
    creator: str | None = None
    modifier: str | None = None
    gmt_create: datetime | None = None
    gmt_modified: datetime | None = None
    model_unit_spec: str | None = None
    enable_thinking: bool | None = None
    max_context_length: int | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    ptu_capacity: PtuCapacity | None = None
    overflow_strategy: str | None = None
    pre_paid_info: PrePaidInfo | None = None
    pre_paid_gmt_expired: datetime | None = None
    fail_reason: str | None = None
    service_tier: str | None = None
    operation_id: str | None = None
    instance_id: str | None = None
    request_id: str | None = Field(default=None, description="The envelope's request_id.")
    adopted: bool = Field(
        default=False,
        exclude=True,
        description="True when a create's answer was lost and this deployment was found instead.",
    )

    _aware = field_validator("gmt_create", "gmt_modified", "pre_paid_gmt_expired", mode="before")(
        _beijing_aware
    )

    @property
    def is_ptu(self) -> bool:
        """PTU in any spelling (`ptu`, `ptu_v2`, ...)."""
        return (self.plan or "").lower().startswith("ptu")

    @property
    def known_status(self) -> DeploymentStatus | None:
        """The status as a known enum member, or None when Model Studio sent a new one."""
        try:
            return DeploymentStatus(self.status)
        except ValueError:
            return None

    @property
    def status_label(self) -> str:
        """The status for display; an unknown one is shown as such, never hidden."""
        return self.status if self.known_status is not None else f"{self.status} (unknown status)"


class DeploymentPage(_Open):
    """One page of `GET /deployments`."""

    page_no: int = 1
    page_size: int = 0
    total: int = 0
    deployments: list[DeploymentInfo] = Field(default_factory=list)
    request_id: str | None = None


class PlanTemplate(_Open):
    """A deployment template of a plan (MU: `roles.unified.capacity_unit_per_instance`)."""

    template_id: str | None = None
    deploy_spec: str | None = None
    roles: dict[str, Any] = Field(default_factory=dict)

    @property
    def capacity_unit_per_instance(self) -> int | None:
        unified = self.roles.get("unified")
        if isinstance(unified, dict):
            value = unified.get("capacity_unit_per_instance")
            return int(value) if value is not None else None
        return None


class DeployablePlan(_Open):
    """A plan a model can be deployed with (`mu`, `ptu`, `lora`, `cu`)."""

    plan: str
    templates: list[PlanTemplate] = Field(default_factory=list)


class DeployableModel(_Open):
    """A model `GET /deployments/models` lists, with its plans."""

    model_name: str
    model_source: str | None = None
    plans: list[DeployablePlan] = Field(default_factory=list)

    def plan(self, name: str) -> DeployablePlan | None:
        return next((p for p in self.plans if p.plan == name), None)

    @property
    def base_capacity(self) -> int | None:
        """MU capacity step: the first MU template's `capacity_unit_per_instance`."""
        mu = self.plan("mu")
        if mu is None:
            return None
        return next(
            (t.capacity_unit_per_instance for t in mu.templates if t.capacity_unit_per_instance),
            None,
        )


class DeployableModelPage(_Open):
    """One page of `GET /deployments/models`."""

    page_no: int = 1
    page_size: int = 0
    total: int = 0
    models: list[DeployableModel] = Field(default_factory=list)
    request_id: str | None = None


class CapacityInstance(_Open):
    """One PTU purchase under a ModelCode (`/deployments/{code}/capacity-instances`)."""

    instance_id: str
    model_service_id: str | None = None
    charge_type: str | None = None
    status: str = "UNKNOWN"
    deleted: bool = False
    effective_capacity: PtuCapacity | None = None
    configured_capacity: PtuCapacity | None = None
    target_capacity: PtuCapacity | None = None
    pre_paid_info: PrePaidInfo | None = None
    gmt_expired: datetime | None = None
    can_scale: bool | None = None
    can_renew: bool | None = None
    can_delete: bool | None = None
    fail_reason: str | None = None
    gmt_created: datetime | None = None
    gmt_modified: datetime | None = None
    gmt_deleted: datetime | None = None

    _aware = field_validator(
        "gmt_expired", "gmt_created", "gmt_modified", "gmt_deleted", mode="before"
    )(_beijing_aware)

    @property
    def prepaid(self) -> bool:
        return (self.charge_type or "").lower() in {"pre_paid", "prepaid", "pre_pay"}


class CapacityInstancePage(_Open):
    """One page of instances: `records`, `items` (the total), `page`, `itemsPerPage`."""

    records: list[CapacityInstance] = Field(default_factory=list)
    items: int = 0
    page: int = 1
    items_per_page: int = Field(default=0, alias="itemsPerPage")
    page_count: int = Field(default=0, alias="pageCount")
    request_id: str | None = None


FINAL_OPERATION_STATUSES = frozenset({"SUCCEEDED", "FAILED"})


class CapacityOperation(_Open):
    """An asynchronous capacity change; only `SUCCEEDED` means it happened."""

    operation_id: str
    operation_type: str | None = None
    operation_status: str = "PROCESSING"
    instance_id: str | None = None
    from_status: str | None = None
    current_status: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    gmt_created: datetime | None = None
    gmt_finished: datetime | None = None
    request_id: str | None = None

    _aware = field_validator("gmt_created", "gmt_finished", mode="before")(_beijing_aware)

    @field_validator("operation_id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @property
    def final(self) -> bool:
        return self.operation_status.upper() in FINAL_OPERATION_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.operation_status.upper() == "SUCCEEDED"
