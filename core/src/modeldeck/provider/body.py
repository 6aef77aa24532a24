"""Map modeldeck's :class:`DeploySpec` to a Model Studio create body (`POST /deployments`)."""

from __future__ import annotations

from typing import Any

from modeldeck.domain import DeploySpec
from modeldeck.errors import ValidationFailed

MU_DEPLOY_SPEC = "MU1"
# `capacity` is required on every create, even where the plan ignores it (PTU).
PTU_PLACEHOLDER_CAPACITY = 1
# Assumption: a monthly MU package is bought as 30-day prepaid periods (billing-rules: the daily
# price of a monthly package is monthly / 30). The deployments API documents only POST_PAY for mu.
DAYS_PER_MONTH = 30


def build_create_body(spec: DeploySpec) -> dict[str, Any]:
    """The JSON create body for `spec`; ValidationFailed names what is missing or not allowed."""
    body: dict[str, Any] = {"model_name": spec.model, "plan": spec.plan}
    if spec.name:
        body["name"] = spec.name
    if spec.suffix:
        body["suffix"] = spec.suffix
    if spec.mode == "thinking":
        body["enable_thinking"] = True
    if spec.plan == "mu":
        body.update(_mu_fields(spec))
    else:
        body.update(_ptu_fields(spec))
    return body


def _mu_fields(spec: DeploySpec) -> dict[str, Any]:
    if spec.units is None or spec.units < 1:
        raise ValidationFailed(
            f"A model-unit deployment of {spec.model} needs units (a whole number, 1 or more).",
            hint="e.g. units=2",
        )
    if spec.billing == "upfront":
        raise ValidationFailed(
            "Model units are billed hourly or monthly, not upfront (upfront is for PTU).",
        )
    fields: dict[str, Any] = {
        "capacity": spec.units,
        "deploy_spec": MU_DEPLOY_SPEC,
        "billing_method": "POST_PAY",
    }
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
        fields["pre_paid_info"] = _prepaid(months * DAYS_PER_MONTH, spec.auto_renewal)
    return fields


def _ptu_fields(spec: DeploySpec) -> dict[str, Any]:
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
    capacity: dict[str, Any] = {"input_tpm": spec.input_tpm, "output_tpm": spec.output_tpm}
    if spec.thinking_output_tpm is not None:
        capacity["thinking_output_tpm"] = spec.thinking_output_tpm
    fields: dict[str, Any] = {"capacity": PTU_PLACEHOLDER_CAPACITY, "ptu_capacity": capacity}
    if spec.billing == "upfront":
        if spec.days is None or spec.days < 1:
            raise ValidationFailed(
                f"An upfront PTU order for {spec.model} needs days (1 or more).", hint="e.g. days=7"
            )
        fields["charge_type"] = "pre_paid"
        fields["pre_paid_info"] = _prepaid(spec.days, spec.auto_renewal)
    return fields


def _prepaid(days: int, auto_renewal: bool) -> dict[str, Any]:
    info: dict[str, Any] = {"duration": days, "auto_renewal": auto_renewal}
    if auto_renewal:
        info["auto_renewal_duration"] = days
    return info
