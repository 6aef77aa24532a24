"""The priced pieces of a spec under a billing method (for estimates, comparisons, accrual)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from modeldeck.catalog import Catalog
from modeldeck.domain import BillingMethod, DeploySpec

_PRICE_OF: dict[tuple[str, str], tuple[str, str]] = {
    ("ptu", "hourly"): ("input_hourly", "output_hourly"),
    ("ptu", "upfront"): ("input_daily", "output_daily"),
}


@dataclass(frozen=True)
class Component:
    """One priced piece of capacity: quantity of price units at a rate per billing period."""

    description: str
    quantity: int
    unit: str
    rate: Decimal
    rate_unit: str
    currency: str


def components(spec: DeploySpec, catalog: Catalog, billing: BillingMethod) -> list[Component]:
    """The priced pieces of a validated spec under a billing method (PriceNotListed if unlisted)."""
    out: list[Component] = []
    if spec.plan == "mu":
        price = "unit_hourly" if billing == "hourly" else "unit_monthly"
        entry = catalog.price(spec.model, spec.mode, "mu", price)
        units = spec.units or 0
        out.append(
            Component(
                f"Model units ({units} × MU)",
                units,
                "unit",
                _amt(entry.amount),
                entry.unit,
                entry.currency,
            )
        )
        return out
    in_price, out_price = _PRICE_OF[("ptu", billing)]
    input_tpm = spec.input_tpm or 0
    entry = catalog.price(spec.model, spec.mode, "ptu", in_price)
    out.append(
        Component(
            f"Input capacity ({input_tpm:,} TPM)",
            input_tpm // 10_000,
            "10k input TPM",
            _amt(entry.amount),
            entry.unit,
            entry.currency,
        )
    )
    for tpm, mode, words in (
        (spec.output_tpm or 0, spec.mode, "Output capacity"),
        (spec.thinking_output_tpm or 0, "thinking", "Thinking output capacity"),
    ):
        if tpm:
            entry = catalog.price(spec.model, mode, "ptu", out_price)
            out.append(
                Component(
                    f"{words} ({tpm:,} TPM)",
                    tpm // 1_000,
                    "1k output TPM",
                    _amt(entry.amount),
                    entry.unit,
                    entry.currency,
                )
            )
    return out


def _amt(value: Decimal | None) -> Decimal:
    assert value is not None  # catalog.price only returns listed prices
    return value
