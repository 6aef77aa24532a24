"""The price catalog: the seed's models and prices as data, plugin catalogs and user overrides.

`load_catalog(settings)` merges, in one place, the entries registered through the
``register_catalogs`` hook (the built-in catalog is a default plugin) and the user's contract
prices from ``[[catalog.prices]]`` in modeldeck.toml. Results are cached per plugin manager,
overrides and currency rates, so calling it repeatedly is cheap.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from modeldeck.catalog.builder import CatalogBuilder
from modeldeck.catalog.catalog import Catalog, describe_price, override_hint
from modeldeck.catalog.models import PRICE_NAMES, ModelInfo, PriceEntry, Tier, parse_tier

if TYPE_CHECKING:
    from modeldeck.settings import Settings

__all__ = [
    "PRICE_NAMES",
    "Catalog",
    "CatalogBuilder",
    "ModelInfo",
    "PriceEntry",
    "Tier",
    "clear_catalog_cache",
    "describe_price",
    "load_catalog",
    "override_hint",
    "parse_tier",
]

_lock = threading.Lock()
_cache: dict[tuple[Any, ...], tuple[Any, Catalog]] = {}
_CACHE_SIZE = 16


def load_catalog(settings: Settings | None = None) -> Catalog:
    """Built-in + plugin catalogs, then the overrides and currency rates of `settings`.

    With no settings, only the registered catalogs are used (no user overrides, no rates).
    Raises ConfigError on conflicting sources or invalid overrides.
    """
    from modeldeck.plugins import get_plugin_manager

    pm = get_plugin_manager()
    overrides = list(settings.catalog.prices) if settings is not None else []
    rates: dict[str, Decimal] = dict(settings.currency_rates) if settings is not None else {}
    key = (
        id(pm),
        tuple(sorted(str(name) for name, _ in pm.list_name_plugin())),
        tuple(o.model_dump_json() for o in overrides),
        tuple(sorted((k, str(v)) for k, v in rates.items())),
    )
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] is pm:
            return hit[1]
    builder = CatalogBuilder()
    pm.hook.register_catalogs(register=builder.register)
    builder.apply_overrides(overrides)
    catalog = builder.build(rates)
    with _lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[key] = (pm, catalog)
    return catalog


def clear_catalog_cache() -> None:
    """Forget cached catalogs (after registering a plugin at run time, in tests)."""
    with _lock:
        _cache.clear()
