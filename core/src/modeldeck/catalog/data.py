"""Read the built-in catalog shipped as `catalog.toml` inside this package (importlib.resources)."""

from __future__ import annotations

import tomllib
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from modeldeck.catalog.models import PRICE_NAMES, ModelInfo, PriceEntry
from modeldeck.errors import ConfigError

NOT_LISTED = "not listed"
_ROW_KEYS = {"model", "plan", "modes", "from", "tier", "source", "as_of", "currency"}


def parse_amount(value: Any, where: str) -> Decimal | None:
    """A price cell: a decimal string or integer; 'not listed' is None. Floats are refused."""
    if isinstance(value, str) and value.strip().lower() == NOT_LISTED:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(
            f"{where}: price {value!r} must be a decimal string such as '1.11' or 'not listed'.",
            hint="Quote prices in TOML so they are read exactly (no floats).",
        )
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ConfigError(f"{where}: price {value!r} is not a decimal number.") from None
    if not amount.is_finite() or amount < 0:
        raise ConfigError(f"{where}: price {value!r} must be a finite amount of zero or more.")
    return amount


def entries_from_document(doc: dict[str, Any], origin: str) -> list[ModelInfo | PriceEntry]:
    """Turn a catalog document (the TOML layout of catalog.toml) into models and price entries."""
    sources: dict[str, dict[str, str]] = doc.get("sources", {})
    out: list[ModelInfo | PriceEntry] = []
    for raw in doc.get("models", []):
        base = sources.get(str(raw.get("from", "seed")), {})
        fields = {k: v for k, v in raw.items() if k != "from"}
        fields.setdefault("source", base.get("source", origin))
        fields.setdefault("as_of", base.get("as_of"))
        out.append(ModelInfo(**fields))
    for index, row in enumerate(doc.get("prices", []), start=1):
        where = f"{origin}, prices row {index} ({row.get('model', '?')})"
        plan = str(row.get("plan", ""))
        names = PRICE_NAMES.get(plan)
        if names is None:
            raise ConfigError(f"{where}: unknown plan {plan!r}.", hint="Use ptu, mu or payg.")
        extra = set(row) - _ROW_KEYS - set(names)
        if extra:
            raise ConfigError(
                f"{where}: unknown keys {sorted(extra)}.",
                hint=f"{plan} prices are named {', '.join(names)}.",
            )
        base = sources.get(str(row.get("from", "")), {})
        for mode in row["modes"]:
            for price in names:
                if price not in row:
                    continue
                out.append(
                    PriceEntry(
                        model=row["model"],
                        mode=mode,
                        plan=plan,
                        price=price,
                        tier=row.get("tier") if plan == "payg" else None,
                        amount=parse_amount(row[price], where),
                        currency=row.get("currency", "USD"),
                        source=row.get("source", base.get("source", origin)),
                        as_of=row.get("as_of", base.get("as_of")),
                    )
                )
    return out


@cache
def _builtin() -> tuple[ModelInfo | PriceEntry, ...]:
    text = resources.files("modeldeck.catalog").joinpath("catalog.toml").read_text("utf-8")
    return tuple(entries_from_document(tomllib.loads(text), "catalog.toml"))


def builtin_entries() -> list[ModelInfo | PriceEntry]:
    """Every built-in model and price (parsed once, returned as a fresh list)."""
    return list(_builtin())
