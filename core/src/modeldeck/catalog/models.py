"""Catalog vocabulary: model facts, priced entries, price names with their units, PAYG tiers."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modeldeck.domain import Mode, Plan
from modeldeck.errors import ConfigError

PricePlan = Literal["ptu", "mu", "payg"]
PriceKey = tuple[str, str, str, str, str]  # model, mode, plan, price, tier ("" when not tiered)

# price name -> (billing method it serves, unit). Units say what one "amount" buys.
PRICE_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "ptu": {
        "input_hourly": ("hourly", "per 10k input TPM·hour"),
        "output_hourly": ("hourly", "per 1k output TPM·hour"),
        "input_daily": ("upfront", "per 10k input TPM·day"),
        "output_daily": ("upfront", "per 1k output TPM·day"),
    },
    "mu": {
        "unit_hourly": ("hourly", "per unit·hour"),
        "unit_monthly": ("monthly", "per unit·month"),
    },
    "payg": {
        "input": ("per-token", "per million input tokens"),
        "output": ("per-token", "per million output tokens"),
    },
}

_TIER_BOUND = re.compile(r"^(\d+(?:\.\d+)?)([km]?)$")


class ModelInfo(BaseModel):
    """What a model offers: plans, modes, limits, and whether MU rate limiting is supported."""

    model_config = ConfigDict(frozen=True)

    name: str
    display_name: str | None = None
    plans: list[Plan]
    modes: list[Mode]
    max_context: int | None = None
    max_input: int | None = None
    context_fixed: bool = False
    rate_limiting: bool = False
    spec: str | None = Field(default=None, description="model unit specification, e.g. MU1")
    source: str = "unknown"
    as_of: str | None = None

    @property
    def rate_limiting_text(self) -> str:
        return "Supported" if self.rate_limiting else "Not supported"


class PriceEntry(BaseModel):
    """One price of one model x mode x plan (x PAYG tier); `amount` None means not listed."""

    model_config = ConfigDict(frozen=True)

    model: str
    mode: Mode
    plan: PricePlan
    price: str
    tier: str | None = None
    amount: Decimal | None
    currency: str = "USD"
    source: str = "unknown"
    as_of: str | None = None

    @property
    def listed(self) -> bool:
        return self.amount is not None

    @property
    def unit(self) -> str:
        return PRICE_NAMES[self.plan][self.price][1]

    @property
    def billing(self) -> str:
        return PRICE_NAMES[self.plan][self.price][0]

    @property
    def key(self) -> PriceKey:
        return (self.model, self.mode, self.plan, self.price, self.tier or "")


class Tier(BaseModel):
    """A PAYG tier: requests with low < input tokens <= high (high None: no upper bound)."""

    model_config = ConfigDict(frozen=True)

    name: str
    low: int
    high: int | None


def check_price_name(plan: str, price: str, where: str) -> None:
    """Refuse a price name the plan does not have, listing the allowed ones."""
    names = PRICE_NAMES.get(plan)
    if names is None:
        raise ConfigError(f"{where}: unknown plan {plan!r}.", hint="Allowed plans: ptu, mu, payg.")
    if price not in names:
        raise ConfigError(
            f"{where}: {plan} has no price named {price!r}.",
            hint=f"Allowed {plan} prices: {', '.join(names)}.",
        )


def _bound(text: str, tier: str) -> int:
    match = _TIER_BOUND.match(text.strip().lower())
    if match is None:
        raise ConfigError(
            f"PAYG tier {tier!r} has a bound {text!r} that is not a token count.",
            hint="Write tiers as 'all' or '<low>-<high>' in tokens, e.g. '0-32k', '32k-128k'"
            " (k = 1,000, m = 1,000,000).",
        )
    number, suffix = Decimal(match.group(1)), match.group(2)
    scaled = number * {"": 1, "k": 1000, "m": 1_000_000}[suffix]
    if scaled != scaled.to_integral_value():
        raise ConfigError(f"PAYG tier {tier!r}: bound {text!r} is not a whole number of tokens.")
    return int(scaled)


def parse_tier(tier: str) -> Tier:
    """Parse 'all' or '<low>-<high>' (k = 1,000 tokens) into a Tier."""
    name = tier.strip().lower()
    if name == "all":
        return Tier(name=name, low=0, high=None)
    parts = name.split("-")
    if len(parts) != 2:
        raise ConfigError(
            f"PAYG tier {tier!r} is not 'all' or '<low>-<high>'.",
            hint="Examples: 'all', '0-32k', '32k-128k', '128k-256k' (k = 1,000 tokens).",
        )
    low, high = _bound(parts[0], tier), _bound(parts[1], tier)
    if high <= low:
        raise ConfigError(f"PAYG tier {tier!r}: the upper bound must be above the lower one.")
    return Tier(name=name, low=low, high=high)
