"""Tables of the store. Changing them needs an Alembic migration in `migrations/versions`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from modeldeck.store.types import DecimalText, UTCDateTime


class Base(DeclarativeBase):
    """Declarative base of every modeldeck table."""


class DeploymentRow(Base):
    __tablename__ = "deployments"
    # A Model Code is unique among live rows: a code freed by an unpublish may be deployed again
    # and that deployment is a row of its own (the deleted one keeps its history).
    __table_args__ = (
        Index(
            "uq_deployments_live_code",
            "deployed_model",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    deployed_model: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(120))
    plan: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(16), default="instruct")
    billing: Mapped[str] = mapped_column(String(16), default="hourly")
    status: Mapped[str] = mapped_column(String(40))
    units: Mapped[int | None] = mapped_column(Integer)
    input_tpm: Mapped[int | None] = mapped_column(Integer)
    output_tpm: Mapped[int | None] = mapped_column(Integer)
    thinking_output_tpm: Mapped[int | None] = mapped_column(Integer)
    rpm_limit: Mapped[int | None] = mapped_column(Integer)
    tpm_limit: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(40))
    imported: Mapped[bool] = mapped_column(default=False)
    provider_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Why what it bills is not known (an import whose price is not listed); None when priced
    price_note: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, str] | None] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RequestRow(Base):
    __tablename__ = "requests"
    __table_args__ = (
        # pending requests past their TTL, looked up on every decision and listing (expire_due)
        Index("ix_requests_status_expires_at", "status", "expires_at"),
        UniqueConstraint("requester", "idempotency_key", name="uq_request_idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    requester: Mapped[str] = mapped_column(String(120))
    surface: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deployment_id: Mapped[str | None] = mapped_column(String(40), index=True)
    estimate: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    refs: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    # A surface's submission id (REST Idempotency-Key, Slack trigger_id, notebook click id):
    # one request per requester and key, so a replayed submission answers with the first.
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("request_id", "principal", name="uq_decision_per_principal"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    principal: Mapped[str] = mapped_column(String(120))
    surface: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditRow(Base):
    """Append-only: the store API has no update or delete for it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    surface: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    cost_estimate: Mapped[Decimal | None] = mapped_column(DecimalText())
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OrderRow(Base):
    """An upfront purchase (PTU daily package or MU monthly package)."""

    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    # None: an imported order whose price the catalog does not list (flagged, never $0)
    amount: Mapped[Decimal | None] = mapped_column(DecimalText())
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[str] = mapped_column(String(16))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stops_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiTokenRow(Base):
    """A personal REST token, stored only as its SHA-256 hash."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    principal: Mapped[str] = mapped_column(String(120), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UsageCallRow(Base):
    """One metered call to a deployed model (written by `modeldeck.metering`)."""

    __tablename__ = "usage_calls"
    # a deployment's calls in a time range (charts, planner, models called)
    # the calls that can bill: flagged ones in a period (a partial index holding every column
    # the cost query sums, so it never reads the table), unflagged ones longer than the max input
    __table_args__ = (
        Index("ix_usage_calls_deployed_model_at", "deployed_model", "at"),
        Index(
            "ix_usage_calls_flagged_at",
            "at",
            "deployed_model",
            "status_code",
            "input_tokens",
            "output_tokens",
            "reasoning_tokens",
            sqlite_where=text("overflow = 1"),
            postgresql_where=text("overflow"),
        ),
        Index("ix_usage_calls_input_tokens", "input_tokens"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    deployed_model: Mapped[str] = mapped_column(String(200), index=True)
    model: Mapped[str | None] = mapped_column(String(120))
    mode: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    request_id: Mapped[str | None] = mapped_column(String(120))
    status_code: Mapped[int] = mapped_column(Integer)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cached_tokens: Mapped[int] = mapped_column(Integer, default=0)
    overflow: Mapped[bool] = mapped_column(default=False)
    latency_ms: Mapped[float] = mapped_column(default=0.0)
    cost: Mapped[Decimal | None] = mapped_column(DecimalText())
    error: Mapped[str | None] = mapped_column(Text)


class UsageMinuteRow(Base):
    """Per-deployment, per-minute roll-up of metered calls (the console's TPM statistics)."""

    __tablename__ = "usage_minutes"

    deployed_model: Mapped[str] = mapped_column(String(200), primary_key=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True, index=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(Integer, default=0)
    overflow_calls: Mapped[int] = mapped_column(Integer, default=0)
    overflow_input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    overflow_output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    overflow_cost: Mapped[Decimal] = mapped_column(DecimalText(), default=Decimal("0"))
    errors: Mapped[int] = mapped_column(Integer, default=0)


class TimelineEventRow(Base):
    """An upfront-order timeline event that fired (unique: each fires once, across replicas)."""

    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("order_id", "event", name="uq_timeline_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
