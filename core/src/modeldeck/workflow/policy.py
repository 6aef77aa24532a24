"""Policy: how a request gets approved, decided by the ``evaluate_policy`` hook."""

from __future__ import annotations

from modeldeck import plugins
from modeldeck.domain import Estimate, PolicyDecision, RequestRecord
from modeldeck.errors import ConfigError
from modeldeck.settings import Settings


def evaluate(
    request: RequestRecord, estimate: Estimate | None, settings: Settings
) -> PolicyDecision:
    """The first plugin's decision (the built-in `[policy]` thresholds when none decides)."""
    decision = plugins.hook().evaluate_policy(request=request, estimate=estimate, settings=settings)
    if isinstance(decision, dict):
        decision = PolicyDecision.model_validate(decision)
    if not isinstance(decision, PolicyDecision):
        raise ConfigError(
            f"An evaluate_policy plugin returned {type(decision).__name__}, not a PolicyDecision."
        )
    return decision
