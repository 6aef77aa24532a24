"""Settings from `MODELDECK_*` environment variables, a `modeldeck.toml`, and the foreign variables
the dashscope SDK and Slack tools already use (`DASHSCOPE_API_KEY`, `SLACK_BOT_TOKEN`, ...).

Precedence, highest first: init arguments, environment, the TOML file, defaults. The TOML file is
`$MODELDECK_CONFIG` if set, else `./modeldeck.toml`, else `<data dir>/modeldeck.toml`.
Secrets are `SecretStr`, so they never show in a repr, a log or an error.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from modeldeck import masking
from modeldeck.alerts.config import AlertSettings
from modeldeck.budgets.models import Budgets
from modeldeck.errors import ConfigError

DEFAULT_DATA_DIR = Path.home() / ".modeldeck"
REGION_BASE_URLS = {
    "beijing": "https://dashscope.aliyuncs.com/api/v1",
    "singapore": "https://dashscope-intl.aliyuncs.com/api/v1",
}


def _normalise_secret(value: Any, info: ValidationInfo) -> Any:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(raw, str):
        return SecretStr(masking.normalise(raw, info.field_name or "a secret"))
    return value


def _register_secret(value: SecretStr) -> SecretStr:
    masking.register(value.get_secret_value())
    return value


# A secret setting: surrounding whitespace (a secret file's trailing newline) is stripped, inner
# whitespace refused, and the value registered so every log record masks it (modeldeck.masking).
Secret = Annotated[SecretStr, BeforeValidator(_normalise_secret), AfterValidator(_register_secret)]
# Sections holding secrets never echo an input back in a validation error.
HIDE_INPUT = ConfigDict(hide_input_in_errors=True)


class ProviderSettings(BaseModel):
    """Where Model Studio is. No `base_url` means the embedded sandbox."""

    model_config = HIDE_INPUT

    kind: str = "modelstudio"
    base_url: str | None = None
    api_key: Secret | None = None
    workspace: str | None = None
    region: Literal["beijing", "singapore", "virginia"] = "beijing"
    timeout_seconds: float = 30.0
    max_retries: int = 3
    # Which API generation the account speaks: PTU reservations (capacity instances and
    # operations, kTPM) or the legacy one (one capacity per deployment, TPM).
    api_generation: Literal["reservations", "legacy"] = "reservations"
    # The PTU wire unit; None follows the generation (ktpm for reservations, tpm for legacy).
    ptu_wire_unit: Literal["ktpm", "tpm"] | None = None
    # Whether this account's deployments API accepts MU `billing_method: PRE_PAY` (documented:
    # POST_PAY only; monthly MU packages are bought in the console).
    mu_prepay_via_api: bool = False
    # How long to wait for a capacity operation to reach SUCCEEDED or FAILED.
    operation_timeout_seconds: float = Field(default=600.0, gt=0)


class SandboxSettings(BaseModel):
    """The embedded Model Studio emulator."""

    model_config = HIDE_INPUT

    host: str = "127.0.0.1"
    port: int = 8760
    deploy_delay_seconds: float = 3.0
    clock_speed: float = 1.0
    api_key: Secret = SecretStr("sk-sandbox")
    api_generation: Literal["reservations", "legacy"] = "reservations"
    mu_prepay_accepted: bool = False


class ServerSettings(BaseModel):
    """The modeldeck server; `url` is where notebooks in team mode reach it."""

    model_config = HIDE_INPUT

    host: str = "127.0.0.1"
    port: int = 8765
    url: str | None = None
    token: Secret | None = None
    # Largest request body the server reads (bytes); more is refused with 413.
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    # Host names the server answers to besides loopback, its bound address and url's host.
    allowed_hosts: list[str] = Field(default_factory=list)
    # Open mode (no principals) off loopback: refused unless this is set (warned on every start).
    insecure_open_mode: bool = False
    # Who token-less API calls act as in open mode (default: the OS user running the server).
    open_mode_principal: str | None = None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(value: str) -> str:
    """`HH:MM` on a 24-hour clock (Beijing time for the digest)."""
    parts = value.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f'time {value!r} is not HH:MM (e.g. "09:00", Beijing time)')
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"time {value!r} is not a time of day (00:00 to 23:59)")
    return f"{hour:02d}:{minute:02d}"


class SlackDigestSettings(BaseModel):
    """`[slack.digest]`: the weekly digest (spend, overflow, expiring orders, idle deployments)
    posted once a week, on `weekday` at `time` Beijing time, to `channel`."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(min_length=1, max_length=200)
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: Annotated[str, AfterValidator(_clock)] = "09:00"
    # A digest whose slot passed longer ago than this (the server was down) is skipped.
    late_hours: int = Field(default=12, ge=1, le=24 * 6)
    chart: bool = True


# The bot scopes an OAuth install asks for (what /deck, cards, DMs, App Home and uploads use).
DEFAULT_OAUTH_SCOPES = [
    "commands",
    "chat:write",
    "im:write",
    "files:write",
    "users:read",
]


class SlackSettings(BaseModel):
    """Slack bot credentials; the bot is off unless a bot token (or an OAuth client) and a
    signing secret (or an app token) are set."""

    model_config = HIDE_INPUT

    bot_token: Secret | None = None
    signing_secret: Secret | None = None
    app_token: Secret | None = None
    api_url: str | None = None
    channel: str | None = None
    # OAuth install to several workspaces (SLACK_CLIENT_ID / SLACK_CLIENT_SECRET).
    client_id: str | None = None
    client_secret: Secret | None = None
    oauth_scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_OAUTH_SCOPES))
    # The workspace whose installation posts alerts, App Home refreshes and the digest when
    # there is no SLACK_BOT_TOKEN (default: the most recent installation).
    notify_team: str | None = None
    digest: SlackDigestSettings | None = None

    @property
    def oauth(self) -> bool:
        return self.client_id is not None and self.client_secret is not None

    @property
    def enabled(self) -> bool:
        return (self.bot_token is not None or self.oauth) and (
            self.signing_secret is not None or self.app_token is not None
        )


class PriceOverride(BaseModel):
    """A contract price from the user, replacing or adding a catalog price."""

    model: str
    plan: Literal["ptu", "mu", "payg"]
    mode: str = "instruct"
    price: str
    amount: Decimal
    currency: str = "USD"
    tier: str | None = None
    source: str = "modeldeck.toml"
    as_of: str | None = None


class CatalogSettings(BaseModel):
    prices: list[PriceOverride] = Field(default_factory=list)


class PrincipalSettings(BaseModel):
    name: str
    slack_user: str | None = None
    jupyter_user: str | None = None
    roles: list[Literal["viewer", "deployer", "approver", "admin", "service"]] = Field(
        default_factory=list
    )


class WorkspaceSettings(BaseModel):
    id: str = "default"
    full_access: list[str] | None = None
    deployable_models: list[str] | None = None


class PolicySettings(BaseModel):
    auto_approve_below_usd_per_day: Decimal = Decimal("0")
    approvers_required: int = 1
    two_approvers_above_usd_per_day: Decimal | None = None
    two_approvers_for_upfront: bool = True
    request_ttl: str = "24h"
    unpublish_needs_approval: bool = False
    # Spend auto-approved over a sliding window (cost per day of each auto-approved request in
    # it): past a budget a request needs an approver, so splitting an order does not escape it.
    auto_approve_budget_usd_per_day: Decimal | None = None  # per requester
    workspace_auto_approve_budget_usd_per_day: Decimal | None = None  # everyone together
    auto_approve_window: str = "24h"


class PlannerMuUnit(BaseModel):
    """TPM one model unit serves for a model (not a catalog fact: enables the planner's `mu`)."""

    model_config = ConfigDict(extra="forbid")

    input_tpm: int = Field(gt=0)
    output_tpm: int = Field(gt=0)


class PlannerSettings(BaseModel):
    """`[planner]`: defaults of the `plan` verb and where Model Studio's monitoring is."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    coverage: Decimal | None = Field(default=None, ge=0, le=1)
    period: str = "30d"
    mu_unit_tpm: dict[str, PlannerMuUnit] = Field(default_factory=dict)
    prometheus_url: str | None = None
    access_key_id: str | None = None
    access_key_secret: Secret | None = None
    workspace_id: str | None = None


class Settings(BaseSettings):
    """Everything modeldeck can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="MODELDECK_",
        env_nested_delimiter="__",
        extra="ignore",
        hide_input_in_errors=True,
    )

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    provider: ProviderSettings = Field(default_factory=ProviderSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    principals: list[PrincipalSettings] = Field(default_factory=list)
    workspace: WorkspaceSettings = Field(default_factory=WorkspaceSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    currency_rates: dict[str, Decimal] = Field(default_factory=dict)
    # Overrides of the billing decisions (fields of modeldeck.billing.rules.BillingRules).
    billing: dict[str, Any] = Field(default_factory=dict)
    budgets: Budgets = Field(default_factory=list)  # [[budgets]], see docs/budgets.md
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    planner: PlannerSettings = Field(default_factory=PlannerSettings)  # docs/planner.md

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'modeldeck.db'}"

    @property
    def uses_sandbox(self) -> bool:
        """No base URL and no region chosen: the embedded sandbox stands in for Model Studio."""
        return self.provider.base_url is None and "region" not in self.provider.model_fields_set

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            ForeignEnvSource(settings_cls),
        ]
        path = config_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


# Variables other tools already define, mapped into our sections.
FOREIGN_ENV = {
    "DASHSCOPE_HTTP_BASE_URL": ("provider", "base_url"),
    "DASHSCOPE_API_KEY": ("provider", "api_key"),
    "DASHSCOPE_WORKSPACE": ("provider", "workspace"),
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "SLACK_CLIENT_ID": ("slack", "client_id"),
    "SLACK_CLIENT_SECRET": ("slack", "client_secret"),
    "MODELDECK_SLACK_API_URL": ("slack", "api_url"),
}


class ForeignEnvSource(PydanticBaseSettingsSource):
    """Reads DASHSCOPE_* and SLACK_* variables into the matching nested settings."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, dict[str, str]] = {}
        for var, (section, key) in FOREIGN_ENV.items():
            value = os.environ.get(var)
            if value:
                out.setdefault(section, {})[key] = value
        return out


def config_path() -> Path | None:
    """The TOML file to read: $MODELDECK_CONFIG, ./modeldeck.toml, or the data dir's."""
    named = os.environ.get("MODELDECK_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(
                f"MODELDECK_CONFIG names {path}, which is not a file.",
                hint="Point it at an existing modeldeck.toml or unset it.",
            )
        return path
    local = Path("modeldeck.toml")
    if local.is_file():
        return local
    data_dir = Path(os.environ.get("MODELDECK_DATA_DIR", DEFAULT_DATA_DIR))
    in_data = data_dir / "modeldeck.toml"
    return in_data if in_data.is_file() else None


def config_error(exc: ValidationError, what: str, hint: str) -> ConfigError:
    """A pydantic validation failure as one readable ConfigError: each key and what is wrong."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )
    return ConfigError(f"Invalid {what}: {problems}.", hint=hint)


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation failures into a clear ConfigError (no traceback)."""
    try:
        return Settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{config_path()} is not valid TOML: {exc}.",
            hint="Fix the line it names (TOML: key = value, [section], [[list]]).",
        ) from None
    except ValidationError as exc:
        raise config_error(
            exc, "configuration", "Fix modeldeck.toml or the MODELDECK_* variables."
        ) from None
