"""Sandbox configuration: API generation, delays, clock, keys, permissions, faults, PTU overflow.

Every setting that is a guess about the real service (where the public contract is silent) is
listed with its default in ``docs/sandbox.md``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

if TYPE_CHECKING:
    from modeldeck.settings import Settings

DEFAULT_API_KEY = "sk-sandbox"
DEFAULT_MEMBER = "sandbox"


class SandboxMember(BaseModel):
    """A workspace member: the API key they call with and the name shown as `creator`."""

    model_config = ConfigDict(frozen=True)

    name: str
    api_key: SecretStr


class FaultRule(BaseModel):
    """One injected fault, applied to matching requests.

    ``kind``: ``latency`` (wait ``latency_seconds``), ``error`` (answer ``status`` with ``code``),
    ``throttle`` (429 with ``Retry-After: retry_after_seconds``) or ``drop`` (close the connection
    mid-answer). ``after_handler`` applies the fault after the request was processed (the sandbox
    accepted it and then the client saw a timeout, error or dropped connection). ``rate`` is the
    probability per matching request; ``times`` caps how many requests it hits (None: no cap).
    ``operation_failed`` is applied by the engine, not the HTTP layer: a capacity-instance write
    that matches is accepted (HTTP 200, an operation ``PROCESSING``) and its operation then ends
    ``FAILED`` with ``code`` (default ``InternalError``) as its ``error_code``; with
    ``immediate`` the HTTP 200 answer itself already carries ``operation_status: FAILED``.
    """

    kind: Literal["latency", "error", "throttle", "drop", "operation_failed"]
    method: str | None = None
    path: str | None = None
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    times: int | None = Field(default=None, ge=0)
    latency_seconds: float = Field(default=0.0, ge=0.0)
    status: int = Field(default=500, ge=400, le=599)
    code: str | None = None
    retry_after_seconds: float = Field(default=1.0, ge=0.0)
    after_handler: bool = False
    immediate: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or path.startswith(self.path)


class SandboxConfig(BaseModel):
    """Everything the sandbox can be told; the defaults make a deployment RUN within 3 s."""

    model_config = ConfigDict(extra="forbid")

    db_path: Path | None = None
    deploy_delay_seconds: float = Field(default=3.0, ge=0.0)
    scale_delay_seconds: float | None = Field(default=None, ge=0.0)
    delete_delay_seconds: float = Field(default=1.0, ge=0.0)
    clock_speed: float = Field(default=1.0, gt=0.0)
    start_time: datetime | None = None
    api_keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr(DEFAULT_API_KEY)])
    members: list[SandboxMember] = Field(default_factory=list)
    workspace_id: str = "default"
    full_access: list[str] | None = None
    deployable_models: list[str] | None = None
    rate_limit_models: list[str] | None = None
    failing_models: list[str] = Field(default_factory=list)
    ptu_overflow: bool = True
    default_completion_tokens: int = Field(default=16, ge=1)
    faults: list[FaultRule] = Field(default_factory=list)
    seed: int | None = None
    api_generation: Literal["reservations", "legacy"] = "reservations"
    billing_delay_seconds: float = Field(default=1.0, ge=0.0)
    operation_delay_seconds: float | None = Field(default=None, ge=0.0)
    mu_prepay_accepted: bool = False
    ptu_over_capacity_code: Literal["Throttling.AllocationQuota", "Throttling.RateQuota"] = (
        "Throttling.AllocationQuota"
    )
    ptu_v2_answers: bool = False
    max_capacity_instances: int = Field(default=10, ge=1)
    capacity_slot_limit_ktpm: int | None = Field(default=None, ge=0)
    arrears_release_hours: float = Field(default=24.0, ge=0.0)
    auto_suffix_length: int = Field(default=6, ge=1, le=8)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _keys_list(cls, value: object) -> object:
        return [value] if isinstance(value, str | SecretStr) else value

    @property
    def effective_scale_delay(self) -> float:
        return (
            self.deploy_delay_seconds
            if self.scale_delay_seconds is None
            else (self.scale_delay_seconds)
        )

    @property
    def ktpm(self) -> bool:
        """True when PTU capacities are kTPM on the wire (the reservations generation)."""
        return self.api_generation == "reservations"

    @property
    def effective_operation_delay(self) -> float:
        """How long a capacity operation stays PROCESSING (default: the scale delay)."""
        if self.operation_delay_seconds is not None:
            return self.operation_delay_seconds
        return self.effective_scale_delay

    def member_for(self, api_key: str) -> str | None:
        """The member name an API key belongs to, or None if the key is not accepted."""
        for member in self.members:
            if _same(member.api_key.get_secret_value(), api_key):
                return member.name
        for key in self.api_keys:
            if _same(key.get_secret_value(), api_key):
                return DEFAULT_MEMBER
        return None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> SandboxConfig:
        """The sandbox `modeldeck up` / `modeldeck sandbox` runs: state in the data dir.

        Its generation and MU prepay follow the provider settings (the embedded sandbox stands in
        for the account the client is configured for) unless `sandbox.*` sets them.
        """
        chosen = settings.sandbox.model_fields_set
        generation = (
            settings.sandbox.api_generation
            if "api_generation" in chosen
            else settings.provider.api_generation
        )
        prepay = (
            settings.sandbox.mu_prepay_accepted
            if "mu_prepay_accepted" in chosen
            else settings.provider.mu_prepay_via_api
        )
        values: dict[str, object] = {
            "db_path": settings.data_dir / "sandbox.db",
            "deploy_delay_seconds": settings.sandbox.deploy_delay_seconds,
            "clock_speed": settings.sandbox.clock_speed,
            "api_keys": [settings.sandbox.api_key],
            "workspace_id": settings.provider.workspace or settings.workspace.id,
            "api_generation": generation,
            "mu_prepay_accepted": prepay,
        }
        values.update(overrides)
        return cls.model_validate(values)


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())
