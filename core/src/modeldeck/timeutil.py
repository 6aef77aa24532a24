"""Timezone-aware time: UTC in storage, Beijing (Asia/Shanghai) for the billing calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


def ensure_aware(value: datetime, assume: ZoneInfo = BEIJING) -> datetime:
    """Attach `assume` (Beijing by default, as Model Studio's gmt_* fields mean) to a naive time."""
    return value.replace(tzinfo=assume) if value.tzinfo is None else value


def to_beijing(value: datetime) -> datetime:
    return ensure_aware(value).astimezone(BEIJING)


def to_utc(value: datetime) -> datetime:
    return ensure_aware(value).astimezone(UTC)


def iso(value: datetime) -> str:
    """ISO 8601 with its offset, seconds precision."""
    return ensure_aware(value).isoformat(timespec="seconds")
