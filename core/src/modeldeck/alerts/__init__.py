"""Alert rules over forecasts, budgets, overflow, orders and deployment states; claimed once."""

from modeldeck.alerts.config import AlertSettings

__all__ = ["AlertSettings"]
