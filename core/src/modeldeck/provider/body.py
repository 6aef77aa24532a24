"""Map modeldeck's :class:`DeploySpec` to a Model Studio create body (`POST /deployments`).

Capacities here are tokens per minute, as users write them; the client converts PTU capacity to
the wire unit (:mod:`modeldeck.provider.units`) when it sends the body.
"""

from __future__ import annotations

from typing import Any

from modeldeck.domain import DeploySpec
from modeldeck.errors import ValidationFailed

MU_DEPLOY_SPEC = "MU1"
# Assumption: a monthly MU package is bought as 30-day prepaid periods (billing-rules: the daily
# price of a monthly package is monthly / 30). Only sent when the account's API accepts PRE_PAY.
DAYS_PER_MONTH = 30
SERVICE_TIERS = ("ptu_fast", "ptu_default")
DEFAULT_SERVICE_TIER = "ptu_fast"
AUTO_RENEWAL_CYCLE = "Day"


def build_create_body(
    spec: DeploySpec, *, service_tier: str | None = None, mu_prepay_via_api: bool = False
) -> dict[str, Any]:
    """The JSON create body for `spec`; ValidationFailed names what is missing or not allowed.

    `mu_prepay_via_api` is the provider setting saying the account's API accepts MU `PRE_PAY`
    (documented: `POST_PAY` only, monthly packages are bought in the console).
    """
    body: dict[str, Any] = {"model_name": spec.model, "plan": spec.plan}
    if spec.name:
        body["name"] = spec.name
    if spec.suffix:
        body["suffix"] = spec.suffix
    if spec.plan == "mu":
        body.update(_mu_fields(spec, mu_prepay_via_api))
    else:
        body.update(_ptu_fields(spec, service_tier))
    return body


def _mu_fields(spec: DeploySpec, prepay_via_api: bool) -> dict[str, Any]:
    if spec.units is None or spec.units < 1:
        raise ValidationFailed(
            f"A model-unit deployment of {spec.model} needs units (a whole number, 1 or more).",
            hint="e.g. units=2",
        )
    if spec.billing == "upfront":
        raise ValidationFailed(
            "Model units are billed hourly or monthly, not upfront (upfront is for PTU).",
        )
    if spec.billing == "monthly" and not prepay_via_api:
        raise ValidationFailed(
            f"A monthly model-unit package of {spec.model} is bought in the Model Studio console: "
            "the deployments API only accepts pay-as-you-go (POST_PAY) for model units. Buy the "
            "package in the console (modeldeck imports and accounts for it), or deploy it hourly.",
            hint=f"deploy {spec.model} mu units={spec.units} billing=hourly",
        )
    fields: dict[str, Any] = {
        "capacity": spec.units,
        "deploy_spec": MU_DEPLOY_SPEC,
        "billing_method": "POST_PAY",
    }
    if spec.mode == "thinking":
        fields["enable_thinking"] = True
    if spec.rpm_limit is not None:
        fields["rpm_limit"] = spec.rpm_limit
    if spec.tpm_limit is not None:
        fields["tpm_limit"] = spec.tpm_limit
    if spec.max_context_length is not None:
        fields["max_context_length"] = spec.max_context_length
    if spec.billing == "monthly":
        months = spec.months or 1
        fields["billing_method"] = "PRE_PAY"
        fields["charge_type"] = "pre_paid"
        fields["pre_paid_info"] = prepaid_info(months * DAYS_PER_MONTH, spec.auto_renewal)
    return fields


def _ptu_fields(spec: DeploySpec, service_tier: str | None) -> dict[str, Any]:
    if spec.input_tpm is None or spec.output_tpm is None:
        raise ValidationFailed(
            f"A PTU deployment of {spec.model} needs input_tpm and output_tpm "
            "(Model Studio refuses a PTU create without ptu_capacity).",
            hint="e.g. input_tpm=10000 output_tpm=1000",
        )
    if spec.rpm_limit is not None or spec.tpm_limit is not None:
        raise ValidationFailed("rpm_limit and tpm_limit apply to model units (mu) only, not PTU.")
    if spec.billing == "monthly":
        raise ValidationFailed("PTU is billed hourly or upfront (by the day), not monthly.")
    tier = service_tier or DEFAULT_SERVICE_TIER
    if tier not in SERVICE_TIERS:
        raise ValidationFailed(
            f"Unknown PTU service tier {tier!r}.", hint=f"Allowed: {', '.join(SERVICE_TIERS)}."
        )
    if tier == "ptu_default" and spec.billing != "upfront":
        raise ValidationFailed(
            "The ptu_default service tier is sold prepaid (upfront) only.",
            hint="Use billing=upfront days=N, or the ptu_fast tier for hourly PTU.",
        )
    capacity: dict[str, Any] = {"input_tpm": spec.input_tpm, "output_tpm": spec.output_tpm}
    if spec.thinking_output_tpm is not None:
        capacity["thinking_output_tpm"] = spec.thinking_output_tpm
    fields: dict[str, Any] = {
        "ptu_capacity": capacity,
        "charge_type": "post_paid",
        "service_tier": tier,
    }
    if spec.billing == "upfront":
        if spec.days is None or spec.days < 1:
            raise ValidationFailed(
                f"An upfront PTU order for {spec.model} needs days (1 or more).", hint="e.g. days=7"
            )
        fields["charge_type"] = "pre_paid"
        fields["pre_paid_info"] = prepaid_info(spec.days, spec.auto_renewal)
    return fields


def prepaid_info(days: int, auto_renewal: bool) -> dict[str, Any]:
    """`pre_paid_info`: duration in days; auto-renewal renews for the same number of days."""
    info: dict[str, Any] = {"duration": days, "auto_renewal": auto_renewal}
    if auto_renewal:
        info["auto_renewal_duration"] = days
        info["auto_renewal_cycle"] = AUTO_RENEWAL_CYCLE
    return info
