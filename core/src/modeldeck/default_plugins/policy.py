"""The built-in approval policy: `[policy]` thresholds of modeldeck.toml (trylast: overridable)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from modeldeck.hookspecs import hookimpl

if TYPE_CHECKING:  # imported when a request is evaluated, not when plugins load (`--help`)
    from modeldeck.domain import Estimate, PolicyDecision, RequestRecord
    from modeldeck.settings import Settings


def cost_per_day(estimate: Estimate | None) -> Decimal:
    """The estimate's cost per day, the figure the thresholds are written in."""
    if estimate is None:
        return Decimal("0")
    if estimate.per_day is not None:
        return Decimal(estimate.per_day)
    if estimate.per_hour is not None:
        return Decimal(estimate.per_hour) * 24
    return Decimal(estimate.total)


@hookimpl(trylast=True)
def evaluate_policy(
    request: RequestRecord, estimate: Estimate | None, settings: Settings
) -> PolicyDecision:
    from modeldeck.domain import PolicyDecision

    policy = settings.policy
    daily = cost_per_day(estimate)
    # A prepaid order is the deploy's billing, or the deployment's for a scale (its target);
    # a renewal always buys prepaid days.
    spec = request.deploy or request.target
    upfront = request.kind == "renew" or (
        spec is not None and spec.billing in ("upfront", "monthly")
    )
    if request.kind == "unpublish":
        if policy.unpublish_needs_approval:
            return PolicyDecision(
                auto_approve=False, approvers_required=1, rule="unpublish needs one approver"
            )
        return PolicyDecision(auto_approve=True, approvers_required=0, rule="unpublish: confirmed")
    if upfront and policy.two_approvers_for_upfront:
        return PolicyDecision(
            auto_approve=False,
            approvers_required=max(2, policy.approvers_required),
            rule="upfront orders are non-refundable after 30 days: two approvers",
        )
    above = policy.two_approvers_above_usd_per_day
    if above is not None and daily > above:
        return PolicyDecision(
            auto_approve=False,
            approvers_required=max(2, policy.approvers_required),
            rule=f"over ${above}/day: two approvers",
        )
    if daily < policy.auto_approve_below_usd_per_day:
        return PolicyDecision(
            auto_approve=True,
            approvers_required=0,
            rule=f"under ${policy.auto_approve_below_usd_per_day}/day: auto-approved",
        )
    n = max(1, policy.approvers_required)
    return PolicyDecision(
        auto_approve=False, approvers_required=n, rule=f"{n} approver(s) other than the requester"
    )
