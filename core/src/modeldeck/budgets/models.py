"""The `[[budgets]]` model, its scope (`workspace`, `deployment:<ref>`, `tag:<key>=<value>`)
and the full Beijing-calendar bounds of its period."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from modeldeck.errors import UserError
from modeldeck.money import DecimalStr
from modeldeck.timeutil import BEIJING, ensure_aware

SCOPES_ALLOWED = '"workspace", "deployment:<id, name or deployed model>" or "tag:<key>=<value>"'
PERIODS_ALLOWED = (
    "month, week, today, year (the current calendar one, recurring), or a fixed YYYY-MM, "
    "YYYY-MM-DD or <from>..<to>"
)
_RECURRING = ("month", "week", "today", "year")
_REFUSED = {
    "all": "it never ends",
    "yesterday": "it is already over",
    "last-month": "it is already over",
    "last_month": "it is already over",
}
_TAG = re.compile(r"^([A-Za-z0-9_.\-/]+)=(.+)$")
_FAR_FUTURE = datetime(9000, 1, 1, tzinfo=BEIJING)


class Scope(BaseModel):
    """What a budget covers: the whole workspace, one deployment, or deployments with a tag."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["workspace", "deployment", "tag"]
    ref: str | None = None
    key: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        if self.kind == "deployment":
            return f"deployment:{self.ref}"
        if self.kind == "tag":
            return f"tag:{self.key}={self.value}"
        return "workspace"

    def matches(self, target: BudgetTarget) -> bool:
        """Whether a deployment counts against a budget of this scope."""
        if self.kind == "workspace":
            return True
        if self.kind == "deployment":
            return self.ref in (target.id, target.deployed_model, target.name)
        return target.tags.get(self.key or "") == self.value


class BudgetTarget(BaseModel):
    """A deployment as scope matching sees it; `tags` are those set at deploy time."""

    model_config = ConfigDict(frozen=True)

    id: str
    deployed_model: str | None = None
    name: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


def parse_scope(text: str) -> Scope:
    """`workspace`, `deployment:<ref>` or `tag:<key>=<value>`; anything else is a ValueError."""
    raw = text.strip()
    kind, sep, rest = raw.partition(":")
    kind = kind.strip().lower()
    if raw.lower() == "workspace":
        return Scope(kind="workspace")
    if sep and kind == "deployment" and rest.strip():
        return Scope(kind="deployment", ref=rest.strip())
    if sep and kind == "tag":
        match = _TAG.match(rest.strip())
        if match:
            return Scope(kind="tag", key=match.group(1), value=match.group(2).strip())
        raise ValueError(f"scope {text!r}: a tag scope is tag:<key>=<value> (e.g. tag:team=search)")
    raise ValueError(f"scope {text!r} is not a scope; use {SCOPES_ALLOWED}")


def _check_period(text: str) -> str:
    body = text.strip().lower()
    if body in _REFUSED:
        raise ValueError(
            f"period {text!r} cannot hold a budget ({_REFUSED[body]}); use {PERIODS_ALLOWED}"
        )
    if body in _RECURRING:
        return body
    if body[:1].isdigit() and ".." not in body and not re.match(r"^\d{4}-\d{2}", body):
        raise ValueError(
            f"period {text!r} is a rolling duration, which a budget cannot use; "
            f"use {PERIODS_ALLOWED}"
        )
    from modeldeck.billing.periods import parse_period  # lazy: settings imports this module

    try:
        parse_period(text, now=_FAR_FUTURE)
    except UserError as exc:
        raise ValueError(f"period {text!r} is not a period; use {PERIODS_ALLOWED}") from exc
    return text.strip()


def check_budget_period(text: str) -> str:
    """A period a budget or a forecast can use (it has an end still to come); ValueError else."""
    return _check_period(text)


def period_bounds(period: str, now: datetime) -> tuple[datetime, datetime]:
    """The whole period [start, end) containing `now` (recurring) or named (fixed), in Beijing
    time: unlike a cost query, the end is the period's end, not now."""
    current = ensure_aware(now).astimezone(BEIJING)
    body = period.strip().lower()
    today = datetime.combine(current.date(), datetime.min.time(), tzinfo=BEIJING)
    if body == "today":
        return today, today + timedelta(days=1)
    if body == "week":
        start = today - timedelta(days=current.weekday())
        return start, start + timedelta(days=7)
    if body == "month":
        first = current.date().replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return _midnight(first), _midnight(nxt)
    if body == "year":
        return _midnight(date(current.year, 1, 1)), _midnight(date(current.year + 1, 1, 1))
    from modeldeck.billing.periods import parse_period

    return parse_period(period, now=_FAR_FUTURE)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=BEIJING)


class Budget(BaseModel):
    """One `[[budgets]]` entry: soft budgets alert; hard ones also need an admin for requests
    that would cross them (enforced by the request workflow)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    scope: Scope = Field(default_factory=lambda: Scope(kind="workspace"))
    amount_usd: DecimalStr = Field(gt=0)
    period: str = "month"
    thresholds: list[int] = Field(default_factory=lambda: [50, 80, 100])
    hard: bool = False

    @field_validator("scope", mode="before")
    @classmethod
    def _scope(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_scope(value)
        return value

    @field_validator("amount_usd", mode="before")
    @classmethod
    def _amount(cls, value: object) -> object:
        if isinstance(value, float):  # TOML 5000.5: keep the digits as written, not the binary
            return Decimal(repr(value))
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        return _check_period(value)

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("thresholds must list at least one percentage, e.g. [50, 80, 100]")
        bad = [t for t in value if not 1 <= t <= 1000]
        if bad:
            raise ValueError(f"thresholds {bad} are out of range; give percentages from 1 to 1000")
        return sorted(set(value))

    def amount_at(self, percent: int) -> Decimal:
        """The spend at which a threshold is crossed (exact)."""
        return self.amount_usd * percent / 100

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        return period_bounds(self.period, now)


def _unique_names(budgets: list[Budget]) -> list[Budget]:
    seen: set[str] = set()
    for budget in budgets:
        if budget.name in seen:
            raise ValueError(f"two budgets are named {budget.name!r}; give each a unique name")
        seen.add(budget.name)
    return budgets


Budgets = Annotated[list[Budget], AfterValidator(_unique_names)]
