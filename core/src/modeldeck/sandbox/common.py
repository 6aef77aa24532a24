"""What every part of the sandbox shares: the error answer, the caller, and the validators of the
documented request fields (capacity, PTU capacity, paging, the prepaid calendar)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any, TypeGuard

from modeldeck.sandbox import reservations as rsv
from modeldeck.timeutil import BEIJING

MAX_CAPACITY = 1000


# The service's text for an overdue account (billing-rules: arrears), on creates and calls.
ARREARAGE = "Access denied, please make sure your account is in good standing."


class SandboxError(Exception):
    """An error answer: HTTP status, Model Studio code and message (and optional headers)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.param = param


def invalid(message: str) -> SandboxError:
    return SandboxError(400, "InvalidParameter", message)


def not_found(deployed_model: str) -> SandboxError:
    return SandboxError(404, "NotFound", f"Model: {deployed_model} not found!")


def reservation_error(code: str, message: str) -> SandboxError:
    """A reservation error with its documented HTTP status."""
    return SandboxError(rsv.ERROR_STATUS.get(code, 400), code, message)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the member behind the API key and the workspace addressed."""

    member: str
    workspace: str


def prepaid_expiry(ordered: float, days: int) -> float:
    """Expiry of an upfront order: 23:59:59 Beijing on day N (day 1 = order day; +1 from 22:00)."""
    at = datetime.fromtimestamp(ordered, BEIJING)
    extra = 1 if at.hour >= 22 else 0
    last_day = at.date() + timedelta(days=days - 1 + extra)
    return datetime.combine(last_day, dtime(23, 59, 59), BEIJING).timestamp()


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def valid_capacity(value: Any, base: int, *, required: bool) -> int:
    """A valid MU capacity (the documented rule and text), or 400 InvalidParameter."""
    if value is None and not required:
        return 0
    if not is_int(value) or value < 0 or value % base != 0 or value >= MAX_CAPACITY:
        raise invalid(
            f"Invalid capacity ({value}), capacity must be larger than or equal to 0 and "
            f"multiples of {base} and less than {MAX_CAPACITY}!"
        )
    return int(value)


def valid_ptu_capacity(value: Any, *, thinking: bool = True) -> dict[str, int]:
    """A PTU capacity (zero allowed); `thinking_output_tpm` only where the generation takes it."""
    if not isinstance(value, dict):
        raise invalid("Miss ptu capacity info")
    out: dict[str, int] = {}
    for key in ("input_tpm", "output_tpm"):
        item = value.get(key)
        if not is_int(item) or item < 0:
            raise invalid(f"Invalid ptu_capacity.{key} ({item}), {key} must be an integer >= 0!")
        out[key] = item
    if value.get("thinking_output_tpm") is not None and not thinking:
        raise invalid("ptu_capacity.thinking_output_tpm is not supported by this model.")
    thinking_tpm = value.get("thinking_output_tpm")
    if thinking_tpm is not None:
        if not is_int(thinking_tpm) or thinking_tpm < 0:
            raise invalid(
                f"Invalid ptu_capacity.thinking_output_tpm ({thinking_tpm}), it must be a "
                "non-negative integer!"
            )
        out["thinking_output_tpm"] = thinking_tpm
    return out


def capacity_sum(capacity: dict[str, Any]) -> int:
    return int(capacity.get("input_tpm", 0)) + int(capacity.get("output_tpm", 0))


def csv_set(raw: Any) -> set[str]:
    return {part.strip() for part in str(raw or "").split(",") if part.strip()}


def pay_as_you_go(data: dict[str, Any]) -> bool:
    """Pay-as-you-go: an MU POST_PAY deployment, a post-paid PTU (or reservation whose every
    undeleted instance is post-paid)."""
    if rsv.is_reservation(data):
        live = rsv.undeleted(data)
        return bool(live) and all(i["charge_type"] == "post_paid" for i in live)
    return data.get("charge_type") == "post_paid"


def page_param(name: str, raw: Any, default: int, maximum: int | None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        allowed = f"between 1 and {maximum}" if maximum else "1 or more"
        raise invalid(f"Invalid {name} ({raw}), {name} must be {allowed}!")
    return value
