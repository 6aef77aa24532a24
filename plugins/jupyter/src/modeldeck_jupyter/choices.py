"""What the deploy form may offer, derived from the catalog rows `deck.models()` returns.

The rows are JSON-able dicts (model, mode, plan, prices...); only ptu and mu rows are deployable,
so pay-as-you-go rows are ignored here. Modes may come as one string, a list, or "a, b" text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

DEPLOY_PLANS = ("ptu", "mu")
MODES = ("instruct", "thinking")
# ptu: pay by the hour or prepay by the day; mu: pay by the hour or by the month.
BILLING_BY_PLAN: dict[str, tuple[str, ...]] = {
    "ptu": ("hourly", "upfront"),
    "mu": ("hourly", "monthly"),
}
PLAN_LABELS = {"ptu": "PTU", "mu": "MU"}
PLAN_TIPS = {
    "ptu": "Provisioned throughput: input/output TPM reserved",
    "mu": "Model units: dedicated units",
}
BILLING_LABELS = {"hourly": "Hourly", "upfront": "Upfront (days)", "monthly": "Monthly"}
BILLING_TIPS = {
    "hourly": "Pay-as-you-go, billed per started minute",
    "upfront": "Daily package, paid when ordered",
    "monthly": "Monthly package, a partial month billed per day",
}


def _modes(value: Any) -> list[str]:
    """Normalise a row's mode field to known mode names, in catalog order."""
    if value is None:
        return ["instruct"]
    parts: Iterable[Any] = (
        value if isinstance(value, list | tuple) else re.split(r"[,/ ]+", str(value))
    )
    found = [str(p).strip().lower() for p in parts if str(p).strip()]
    return [m for m in found if m in MODES] or ["instruct"]


class Choices:
    """The deployable (model, plan, mode) combinations of a catalog, in catalog order."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self._combos: dict[str, dict[str, list[str]]] = {}
        for row in rows:
            model = row.get("model")
            plan = str(row.get("plan", "")).lower()
            if not model or plan not in DEPLOY_PLANS:
                continue
            plans = self._combos.setdefault(str(model), {})
            modes = plans.setdefault(plan, [])
            for mode in _modes(row.get("mode")):
                if mode not in modes:
                    modes.append(mode)

    def models(self) -> list[str]:
        return list(self._combos)

    def plans(self, model: str) -> list[str]:
        """The deployable plans of `model`, ptu before mu."""
        available = self._combos.get(model, {})
        return [p for p in DEPLOY_PLANS if p in available]

    def modes(self, model: str, plan: str) -> list[str]:
        """The modes `model` can be deployed in under `plan`, instruct before thinking."""
        available = self._combos.get(model, {}).get(plan, [])
        return [m for m in MODES if m in available]

    @staticmethod
    def billings(plan: str) -> list[str]:
        return list(BILLING_BY_PLAN.get(plan, ()))

    def __len__(self) -> int:
        return len(self._combos)
