"""Sandbox configuration: delays, clock, accepted keys, permissions, faults and PTU overflow."""

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
    """

    kind: Literal["latency", "error", "throttle", "drop"]
    method: str | None = None
    path: str | None = None
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    times: int | None = Field(default=None, ge=0)
    latency_seconds: float = Field(default=0.0, ge=0.0)
    status: int = Field(default=500, ge=400, le=599)
    code: str | None = None
    retry_after_seconds: float = Field(default=1.0, ge=0.0)
    after_handler: bool = False

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
        """The sandbox `modeldeck up` / `modeldeck sandbox` runs: state in the data dir."""
        values: dict[str, object] = {
            "db_path": settings.data_dir / "sandbox.db",
            "deploy_delay_seconds": settings.sandbox.deploy_delay_seconds,
            "clock_speed": settings.sandbox.clock_speed,
            "api_keys": [settings.sandbox.api_key],
            "workspace_id": settings.provider.workspace or settings.workspace.id,
        }
        values.update(overrides)
        return cls.model_validate(values)


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())
