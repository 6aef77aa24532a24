"""Policy: how a request gets approved, decided by the ``evaluate_policy`` hook, then held to the
auto-approve budgets over a window (so several small requests cannot add up past a limit)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from modeldeck import plugins
from modeldeck.default_plugins.policy import cost_per_day
from modeldeck.domain import Estimate, PolicyDecision, RequestRecord
from modeldeck.durations import parse_duration
from modeldeck.errors import ConfigError
from modeldeck.settings import Settings

# Auto-approved requests in these states spent (or will spend) money; the rest never ran. An
# auto-approved request is pending only between its insert and its approval: it counts already,
# so a replica checking in that moment sees it.
SPENDING = ("pending", "approved", "executing", "executed")


def evaluate(
    request: RequestRecord,
    estimate: Estimate | None,
    settings: Settings,
    recent: list[RequestRecord] | None = None,
) -> PolicyDecision:
    """The first plugin's decision (the built-in `[policy]` thresholds when none decides),
    turned into one approver's when auto-approving it would overrun a window budget.

    `recent` are the requests created within the window (for the budgets).
    """
    decision = plugins.hook().evaluate_policy(request=request, estimate=estimate, settings=settings)
    if isinstance(decision, dict):
        decision = PolicyDecision.model_validate(decision)
    if not isinstance(decision, PolicyDecision):
        raise ConfigError(
            f"An evaluate_policy plugin returned {type(decision).__name__}, not a PolicyDecision."
        )
    if recent is not None:
        return within_budgets(decision, request, estimate, settings, recent)
    return decision


def within_budgets(
    decision: PolicyDecision,
    request: RequestRecord,
    estimate: Estimate | None,
    settings: Settings,
    recent: list[RequestRecord],
) -> PolicyDecision:
    """`decision`, or one approver's when auto-approving would overrun a window budget."""
    if not decision.auto_approve:
        return decision
    over = over_budget(request, estimate, settings, recent)
    if over is None:
        return decision
    n = max(1, settings.policy.approvers_required, decision.approvers_required)
    return PolicyDecision(auto_approve=False, approvers_required=n, rule=over)


def has_window_budget(settings: Settings) -> bool:
    """True when an auto-approve budget over the window is configured (then replicas check and
    store auto-approvals one at a time, under the store's budget lock)."""
    policy = settings.policy
    budgets = (
        policy.auto_approve_budget_usd_per_day,
        policy.workspace_auto_approve_budget_usd_per_day,
    )
    return any(b is not None for b in budgets)


def window_start(settings: Settings, now: datetime) -> datetime:
    """Where the auto-approve budgets' sliding window starts."""
    return now - timedelta(seconds=parse_duration(settings.policy.auto_approve_window))


def auto_approved_spend(recent: list[RequestRecord], requester: str | None = None) -> Decimal:
    """What the auto-approved requests in the window cost per day (of one requester, or all)."""
    return sum(
        (
            cost_per_day(r.estimate)
            for r in recent
            if r.policy.auto_approve
            and r.status.value in SPENDING
            and (requester is None or r.requester == requester)
        ),
        Decimal("0"),
    )


def over_budget(
    request: RequestRecord,
    estimate: Estimate | None,
    settings: Settings,
    recent: list[RequestRecord],
) -> str | None:
    """The rule to show when auto-approving `request` would overrun a budget, else None."""
    policy = settings.policy
    cost = cost_per_day(estimate)
    window = policy.auto_approve_window
    checks = (
        (policy.auto_approve_budget_usd_per_day, request.requester, f"{request.requester}'s"),
        (policy.workspace_auto_approve_budget_usd_per_day, None, "the workspace's"),
    )
    for budget, requester, whose in checks:
        if budget is None:
            continue
        spent = auto_approved_spend(recent, requester)
        if spent + cost > budget:
            return (
                f"{whose} auto-approve budget of ${budget}/day is reached "
                f"(${spent}/day auto-approved in the last {window} + ${cost}/day): one approver"
            )
    return None
