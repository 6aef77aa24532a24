"""The Catalog: look up models and prices, resolve names, list rows, convert currencies."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from modeldeck.catalog.exact import quotient
from modeldeck.catalog.models import PRICE_NAMES, ModelInfo, PriceEntry, PriceKey, Tier, parse_tier
from modeldeck.errors import CatalogError, CurrencyMismatch, PriceNotListed

_PRICE_WORDS = {
    "input_hourly": "hourly input (per 10k input TPM)",
    "output_hourly": "hourly output (per 1k output TPM)",
    "input_daily": "upfront daily input (per 10k input TPM)",
    "output_daily": "upfront daily output (per 1k output TPM)",
    "unit_hourly": "hourly unit",
    "unit_monthly": "monthly unit",
    "input": "pay-as-you-go input (per million tokens)",
    "output": "pay-as-you-go output (per million tokens)",
}
_PLAN_ORDER = {"ptu": 0, "mu": 1, "payg": 2}


def describe_price(price: str) -> str:
    """Plain words for a price name, e.g. 'hourly output (per 1k output TPM)'."""
    return _PRICE_WORDS.get(price, price)


def override_hint(model: str, plan: str, mode: str, price: str, tier: str | None = None) -> str:
    """How to set a contract price for this entry in modeldeck.toml."""
    tier_line = f' tier = "{tier}",' if tier else ""
    return (
        "Set your contract price in modeldeck.toml: [[catalog.prices]] "
        f'model = "{model}", plan = "{plan}", mode = "{mode}", price = "{price}",{tier_line} '
        'amount = "<your price>", currency = "USD".'
    )


class Catalog:
    """Models and prices from every source, merged and checked; immutable once built."""

    def __init__(
        self,
        models: Iterable[ModelInfo],
        prices: Iterable[PriceEntry],
        *,
        rates: Mapping[str, Decimal] | None = None,
    ) -> None:
        self._models: dict[str, ModelInfo] = {m.name: m for m in models}
        self._lookup: dict[str, str] = {}
        for info in self._models.values():
            self._lookup[info.name.lower()] = info.name
            if info.display_name:
                self._lookup.setdefault(info.display_name.lower(), info.name)
        self._order = {name: i for i, name in enumerate(self._models)}
        self._prices: dict[PriceKey, PriceEntry] = {p.key: p for p in prices}
        self._tiers: dict[tuple[str, str], list[Tier]] = {}
        for entry in self._prices.values():
            if entry.plan == "payg" and entry.tier is not None:
                tiers = self._tiers.setdefault((entry.model, entry.mode), [])
                tier = parse_tier(entry.tier)
                if tier not in tiers:
                    tiers.append(tier)
        for tiers in self._tiers.values():
            tiers.sort(key=lambda t: t.low)
        self.rates: dict[str, Decimal] = dict(rates or {})

    # ------------------------------------------------------------------ models
    @property
    def models(self) -> list[str]:
        """Canonical names of every model, in catalog order."""
        return list(self._models)

    def resolve_model(self, name: str) -> str:
        """The canonical name of a model, case-insensitive; CatalogError with close matches."""
        key = (name or "").strip().lower()
        found = self._lookup.get(key)
        if found is not None:
            return found
        close = difflib.get_close_matches(key, list(self._lookup), n=3, cutoff=0.5)
        names = sorted({self._lookup[c] for c in close}, key=lambda n: self._order[n])
        suggestion = f" Did you mean {', '.join(names)}?" if names else ""
        raise CatalogError(
            f"Unknown model {name!r}.{suggestion}",
            hint="Run `models` to list every model and its prices.",
        )

    def model_info(self, name: str) -> ModelInfo:
        """Facts about a model (plans, modes, context, rate limiting, MU spec)."""
        return self._models[self.resolve_model(name)]

    # ------------------------------------------------------------------ prices
    def entry(
        self, model: str, mode: str, plan: str, price: str, tier: str | None = None
    ) -> PriceEntry | None:
        """The catalog entry for a price, listed or not; None when the catalog has no row."""
        return self._prices.get((model, mode, plan, price, tier or ""))

    def price(
        self, model: str, mode: str, plan: str, price: str, tier: str | None = None
    ) -> PriceEntry:
        """A listed price; PriceNotListed (naming model, mode, price, how to override) if not."""
        found = self.entry(model, mode, plan, price, tier)
        if found is None or found.amount is None:
            tier_words = f", tier {tier}" if tier and tier != "all" else ""
            raise PriceNotListed(
                f"The {describe_price(price)} price of {model} in {mode} mode ({plan}{tier_words}) "
                "is not listed, so it cannot be estimated (it is never taken as $0).",
                hint=override_hint(model, plan, mode, price, tier),
            )
        return found

    def amount(
        self, model: str, mode: str, plan: str, price: str, tier: str | None = None
    ) -> Decimal:
        """The listed amount of a price (see `price`)."""
        found = self.price(model, mode, plan, price, tier)
        assert found.amount is not None
        return found.amount

    def tiers(self, model: str, mode: str) -> list[Tier]:
        """The PAYG tiers of a model in a mode, lowest first."""
        return list(self._tiers.get((model, mode), []))

    def payg_tier(self, model: str, mode: str, input_tokens: int) -> Tier:
        """The PAYG tier a request with this many input tokens is billed at."""
        tiers = self._tiers.get((model, mode))
        if not tiers:
            raise PriceNotListed(
                f"No pay-as-you-go prices are listed for {model} in {mode} mode.",
                hint=override_hint(model, "payg", mode, "input", "all"),
            )
        for tier in tiers:
            above_low = input_tokens > tier.low or input_tokens == tier.low == 0
            if above_low and (tier.high is None or input_tokens <= tier.high):
                return tier
        highest = tiers[-1].high
        raise CatalogError(
            f"No pay-as-you-go tier of {model} ({mode}) covers {input_tokens:,} input tokens"
            + (f"; the highest tier ends at {highest:,}." if highest is not None else "."),
            hint='Add a tier for it in modeldeck.toml [[catalog.prices]] with plan = "payg".',
        )

    def rows(self) -> list[dict[str, Any]]:
        """JSON-able rows for `models`: one per price, `amount` a decimal string or None, with
        the model's context and input limits (None: not known) and where they come from."""
        out: list[dict[str, Any]] = []
        price_rank = {p: i for names in PRICE_NAMES.values() for i, p in enumerate(names)}

        def sort_key(e: PriceEntry) -> tuple[int, str, int, int, int]:
            low = parse_tier(e.tier).low if e.tier else 0
            return (
                self._order.get(e.model, 10**6),
                e.mode,
                _PLAN_ORDER[e.plan],
                low,
                price_rank.get(e.price, 99),
            )

        for e in sorted(self._prices.values(), key=sort_key):
            info = self._models.get(e.model)
            out.append(
                {
                    "model": e.model,
                    "mode": e.mode,
                    "plan": e.plan,
                    "billing": e.billing,
                    "price": e.price,
                    "tier": e.tier,
                    "amount": None if e.amount is None else str(e.amount),
                    "listed": e.amount is not None,
                    "unit": e.unit,
                    "currency": e.currency,
                    "source": e.source,
                    "as_of": e.as_of,
                    **model_limits(info),
                }
            )
        return out

    def model_rows(self) -> list[dict[str, Any]]:
        """JSON-able rows describing each model (plans, modes, context, rate limiting)."""
        return [info.model_dump(mode="json") for info in self._models.values()]

    # ------------------------------------------------------------------ currency
    def convert(self, amount: Decimal, currency: str, to: str) -> Decimal:
        """Convert with the configured rates (units of USD per unit of a currency)."""
        if currency == to:
            return amount
        usd = amount if currency == "USD" else amount * self._rate(currency, to)
        return usd if to == "USD" else quotient(usd, self._rate(to, currency))

    def _rate(self, currency: str, other: str) -> Decimal:
        rate = self.rates.get(currency)
        if rate is None or rate <= 0:
            raise CurrencyMismatch(
                f"Prices in {currency} and {other} cannot be combined without an exchange rate.",
                hint=f'Set currency_rates in modeldeck.toml, e.g. {currency} = "0.1363" '
                f"(USD per {currency}).",
            )
        return rate


def model_limits(info: ModelInfo | None) -> dict[str, Any]:
    """A model's context and input limits for a catalog row; None where the source gives none."""
    if info is None:
        return {"max_context": None, "max_input": None, "context_fixed": False,
                "limits_source": None, "limits_as_of": None}  # fmt: skip
    return {
        "max_context": info.max_context,
        "max_input": info.max_input,
        "context_fixed": info.context_fixed,
        "limits_source": info.source,
        "limits_as_of": info.as_of,
    }
