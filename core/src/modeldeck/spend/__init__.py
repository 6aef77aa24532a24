"""Spend control over the store: histories in grouped queries, forecasts, budgets, alerts.

The names below load on first use, so importing `modeldeck.spend.text` (the renderers do, for
every CLI call) does not import the store and SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modeldeck.spend.histories import load_histories
    from modeldeck.spend.overview import SpendOverview, evaluate_and_raise, spend_overview

_WHERE = {
    "load_histories": "modeldeck.spend.histories",
    "SpendOverview": "modeldeck.spend.overview",
    "evaluate_and_raise": "modeldeck.spend.overview",
    "spend_overview": "modeldeck.spend.overview",
}

__all__ = ["SpendOverview", "evaluate_and_raise", "load_histories", "spend_overview"]


def __getattr__(name: str) -> Any:
    """Import a store-reading name when it is first asked for."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
