"""Spend control over the store: histories in grouped queries, forecasts, budgets, alerts."""

from modeldeck.spend.histories import load_histories
from modeldeck.spend.overview import SpendOverview, evaluate_and_raise, spend_overview

__all__ = ["SpendOverview", "evaluate_and_raise", "load_histories", "spend_overview"]
