"""Merge catalog sources in one place: plugins and the built-in data, then user overrides.

Two sources giving the same price key different amounts (or the same model different facts) is a
conflict and fails loudly with a ConfigError naming both. User overrides from modeldeck.toml replace
catalog prices on purpose (they are contract prices); two overrides of one key that disagree fail.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from modeldeck.catalog.catalog import Catalog, describe_price
from modeldeck.catalog.models import (
    ModelInfo,
    PriceEntry,
    PriceKey,
    Tier,
    check_price_name,
    parse_tier,
)
from modeldeck.errors import ConfigError
from modeldeck.settings import PriceOverride

_MODEL_FACTS = {"source", "as_of", "display_name"}


def _describe_key(key: PriceKey) -> str:
    model, mode, plan, price, tier = key
    tier_words = f", tier {tier}" if tier else ""
    return f"the {plan} {describe_price(price)} price of {model} ({mode}{tier_words})"


def _show(entry: PriceEntry) -> str:
    return "not listed" if entry.amount is None else f"{entry.amount} {entry.currency}"


class CatalogBuilder:
    """Collects entries from named sources, refusing duplicates that disagree."""

    def __init__(self) -> None:
        self.models: dict[str, tuple[ModelInfo, str]] = {}
        self.prices: dict[PriceKey, tuple[PriceEntry, str]] = {}

    def register(self, entries: Iterable[Any], source: str | None = None, **_: Any) -> None:
        """The `register` callback of the register_catalogs hook."""
        owner = source or "a plugin"
        if isinstance(entries, ModelInfo | PriceEntry | dict):
            entries = [entries]
        for item in entries:
            self.add(self._coerce(item, owner), owner)

    @staticmethod
    def _coerce(item: Any, owner: str) -> ModelInfo | PriceEntry:
        if isinstance(item, ModelInfo | PriceEntry):
            return item
        if not isinstance(item, dict):
            raise ConfigError(
                f"{owner} registered a catalog entry of type {type(item).__name__}.",
                hint="Register ModelInfo or PriceEntry objects (or dicts with their fields).",
            )
        kind = PriceEntry if "price" in item else ModelInfo
        data = dict(item)
        if kind is PriceEntry:
            data.setdefault("source", owner)
            data.setdefault("amount", None)
        try:
            return kind(**data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"{owner} registered an invalid catalog entry: {problems}.") from None

    def add(self, entry: ModelInfo | PriceEntry, owner: str) -> None:
        """Add one entry; an equal duplicate is ignored, a disagreeing one is a ConfigError."""
        if isinstance(entry, ModelInfo):
            key = entry.name.lower()
            known = self.models.get(key)
            if known is None:
                self.models[key] = (entry, owner)
                return
            old, old_owner = known
            if old.model_dump(exclude=_MODEL_FACTS) != entry.model_dump(exclude=_MODEL_FACTS):
                raise ConfigError(
                    f"Two catalog sources describe the model {entry.name!r} differently: "
                    f"{old_owner} and {owner}.",
                    hint="Uninstall one of the plugins, or limit plugins with "
                    "MODELDECK_LOAD_PLUGINS.",
                )
            return
        check_price_name(entry.plan, entry.price, owner)
        if entry.plan == "payg":
            if entry.tier is None:
                raise ConfigError(
                    f"{owner}: {_describe_key(entry.key)} needs a tier.",
                    hint="Use tier = 'all' when the price does not depend on input length.",
                )
            entry = entry.model_copy(update={"tier": parse_tier(entry.tier).name})
        elif entry.tier is not None:
            raise ConfigError(f"{owner}: {_describe_key(entry.key)} must not have a tier.")
        existing = self.prices.get(entry.key)
        if existing is None:
            self.prices[entry.key] = (entry, owner)
            return
        old_entry, old_owner = existing
        if (old_entry.amount, old_entry.currency) != (entry.amount, entry.currency):
            raise ConfigError(
                f"Catalog conflict for {_describe_key(entry.key)}: {old_owner} says "
                f"{_show(old_entry)}, {owner} says {_show(entry)}.",
                hint="Uninstall one of the plugins or limit plugins with MODELDECK_LOAD_PLUGINS;"
                " to use your own price instead, set it in modeldeck.toml [[catalog.prices]].",
            )

    # ------------------------------------------------------------------ overrides
    def apply_overrides(self, overrides: Iterable[PriceOverride]) -> None:
        """Apply the user's contract prices from settings (they replace catalog prices)."""
        seen: dict[PriceKey, tuple[PriceOverride, int]] = {}
        for number, item in enumerate(overrides, start=1):
            where = f"modeldeck.toml [[catalog.prices]] entry {number}"
            model = self._override_model(item.model, where)
            check_price_name(item.plan, item.price, where)
            info = self.models[model.lower()][0]
            if item.mode not in ("instruct", "thinking"):
                raise ConfigError(
                    f"{where}: mode {item.mode!r} is not a mode.", hint="Use instruct or thinking."
                )
            if item.plan != "payg":
                if item.plan not in info.plans:
                    raise ConfigError(
                        f"{where}: {model} is not offered on the {item.plan} plan.",
                        hint=f"{model} supports: {', '.join(info.plans)}.",
                    )
                if item.mode not in info.modes:
                    raise ConfigError(
                        f"{where}: {model} has no {item.mode!r} mode.",
                        hint=f"{model} modes: {', '.join(info.modes)}.",
                    )
            tier = self._override_tier(item, model, where)
            if not item.amount.is_finite() or item.amount < 0:
                raise ConfigError(f"{where}: amount {item.amount} must be zero or more.")
            entry = PriceEntry(
                model=model,
                mode=item.mode,
                plan=item.plan,
                price=item.price,
                tier=tier,
                amount=item.amount,
                currency=item.currency.upper(),
                source=item.source,
                as_of=item.as_of,
            )
            prior = seen.get(entry.key)
            if prior is not None and (prior[0].amount, prior[0].currency) != (
                item.amount,
                item.currency,
            ):
                raise ConfigError(
                    f"modeldeck.toml [[catalog.prices]] entries {prior[1]} and {number} set "
                    f"{_describe_key(entry.key)} to different amounts.",
                    hint="Keep one of them.",
                )
            seen[entry.key] = (item, number)
            self.prices[entry.key] = (entry, where)

    def _override_model(self, name: str, where: str) -> str:
        key = name.strip().lower()
        for info, _ in self.models.values():
            if key in {info.name.lower(), (info.display_name or "").lower()}:
                return info.name
        close = difflib.get_close_matches(key, list(self.models), n=3, cutoff=0.5)
        hint = f"Did you mean {', '.join(close)}? " if close else ""
        raise ConfigError(
            f"{where}: unknown model {name!r}.",
            hint=hint + "Run `models` to list every model; a new model needs a catalog plugin.",
        )

    def _override_tier(self, item: PriceOverride, model: str, where: str) -> str | None:
        if item.plan != "payg":
            if item.tier is not None:
                raise ConfigError(f"{where}: only payg prices have a tier; remove tier.")
            return None
        existing = sorted(
            {k[4] for k in self.prices if k[0] == model and k[1] == item.mode and k[2] == "payg"},
            key=lambda t: parse_tier(t).low,
        )
        if item.tier is None:
            if len(existing) > 1:
                raise ConfigError(
                    f"{where}: {model} ({item.mode}) has several pay-as-you-go tiers; say which.",
                    hint=f"Add tier = one of {', '.join(existing)}.",
                )
            return existing[0] if existing else "all"
        tier = parse_tier(item.tier)
        if tier.name not in existing and any(_overlap(tier, parse_tier(t)) for t in existing):
            raise ConfigError(
                f"{where}: tier {item.tier!r} overlaps the tiers of {model} ({item.mode}).",
                hint=f"Use one of its tiers: {', '.join(existing)}.",
            )
        return tier.name

    # ------------------------------------------------------------------ build
    def build(self, rates: Mapping[str, Decimal] | None = None) -> Catalog:
        """Check every price refers to a known model, plan and mode, then build the Catalog."""
        for key, (entry, owner) in self.prices.items():
            known = self.models.get(entry.model.lower())
            if known is None:
                raise ConfigError(
                    f"{owner} gives {_describe_key(key)}, but no source describes that model.",
                    hint="Register the model (a ModelInfo) along with its prices.",
                )
            info = known[0]
            if entry.model != info.name:
                raise ConfigError(
                    f"{owner} names the model {entry.model!r}; the catalog spells it {info.name!r}."
                )
            offered = entry.plan in info.plans and entry.mode in info.modes
            if entry.plan != "payg" and not offered:
                raise ConfigError(
                    f"{owner} gives {_describe_key(key)}, but {info.name} offers plans "
                    f"{', '.join(info.plans)} in modes {', '.join(info.modes)}."
                )
        tiers: dict[tuple[str, str], list[tuple[Tier, str]]] = {}
        for (model, mode, plan, _price, tier_name), (_, owner) in self.prices.items():
            if plan != "payg":
                continue
            tier = parse_tier(tier_name)
            group = tiers.setdefault((model, mode), [])
            for other, other_owner in group:
                if other != tier and _overlap(other, tier):
                    raise ConfigError(
                        f"Pay-as-you-go tiers of {model} ({mode}) overlap: {other.name} from "
                        f"{other_owner} and {tier.name} from {owner}.",
                        hint="Tiers must not overlap; use the existing tier names.",
                    )
            group.append((tier, owner))
        return Catalog(
            (m for m, _ in self.models.values()),
            (p for p, _ in self.prices.values()),
            rates=rates,
        )


def _overlap(a: Tier, b: Tier) -> bool:
    a_high = a.high if a.high is not None else _NO_LIMIT
    b_high = b.high if b.high is not None else _NO_LIMIT
    return a.low < b_high and b.low < a_high


_NO_LIMIT = 10**18
