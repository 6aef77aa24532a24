"""Moved to :mod:`modeldeck.workflow.reconcile` (kept so existing imports work)."""

from modeldeck.workflow.reconcile import STALE_CLAIM, Reconciler, ReconcileReport

__all__ = ["STALE_CLAIM", "ReconcileReport", "Reconciler"]
