"""Validate a DeploySpec against the catalog and the rules: every refusal says what to do."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from modeldeck.billing.rules import BILLING_METHODS, DEFAULT_RULES, BillingRules
from modeldeck.catalog import Catalog, ModelInfo
from modeldeck.domain import DeploySpec
from modeldeck.errors import ConflictError, ValidationFailed
from modeldeck.timeutil import BEIJING, ensure_aware, utcnow

_DURATIONS = ("hours", "days", "months", "duration_seconds")


def nearest_multiples(value: int, step: int) -> list[int]:
    """The valid capacities (positive multiples of `step`) nearest to `value`."""
    if value <= step:
        return [step]
    low = value // step * step
    return [low] if low == value else [low, low + step]


def _fmt(values: list[int]) -> str:
    return " or ".join(f"{v:,}" for v in values)


def _check_ptu_capacity(spec: DeploySpec, info: ModelInfo, rules: BillingRules) -> None:
    if spec.units is not None:
        raise ValidationFailed(
            f"PTU deployments are sized in tokens per minute, not units (units={spec.units}).",
            hint="Drop units and give input_tpm (and output_tpm), e.g. input_tpm=20000 "
            "output_tpm=2000.",
        )
    step_in, step_out = rules.ptu_input_step, rules.ptu_output_step
    if spec.input_tpm is None:
        raise ValidationFailed(
            "A PTU deployment needs input_tpm.",
            hint=f"Give input_tpm as a positive multiple of {step_in:,}, e.g. input_tpm={step_in}.",
        )
    if spec.input_tpm <= 0 or spec.input_tpm % step_in:
        raise ValidationFailed(
            f"input_tpm={spec.input_tpm:,} is not a whole number of price units: input TPM is "
            f"bought in positive multiples of {step_in:,}.",
            hint=f"Nearest valid values: {_fmt(nearest_multiples(spec.input_tpm, step_in))}.",
        )
    for field in ("output_tpm", "thinking_output_tpm"):
        value = getattr(spec, field)
        if value is None or (value == 0 and rules.allow_zero_output_tpm):
            continue
        if value <= 0 or value % step_out:
            raise ValidationFailed(
                f"{field}={value:,} is not a whole number of price units: output TPM is bought "
                f"in multiples of {step_out:,}.",
                hint=f"Nearest valid values: {_fmt(nearest_multiples(value, step_out))}.",
            )
    if spec.thinking_output_tpm and "thinking" not in info.modes:
        raise ValidationFailed(
            f"{info.name} has no thinking mode, so thinking_output_tpm does not apply.",
            hint="Drop thinking_output_tpm.",
        )


def _check_mu_capacity(spec: DeploySpec, info: ModelInfo, rules: BillingRules) -> None:
    tpm = [f for f in ("input_tpm", "output_tpm", "thinking_output_tpm") if getattr(spec, f)]
    if tpm:
        raise ValidationFailed(
            f"MU deployments are sized in model units, not TPM ({', '.join(tpm)} given).",
            hint=f"Drop {', '.join(tpm)} and give units, e.g. units=1.",
        )
    if spec.units is None:
        raise ValidationFailed(
            f"An MU deployment of {info.name} needs units (model units of spec {info.spec}).",
            hint=f"Give units as a whole number from 1 to {rules.max_units}, e.g. units=1.",
        )
    if not 1 <= spec.units <= rules.max_units:
        raise ValidationFailed(
            f"units={spec.units} is out of range.",
            hint=f"Give a whole number of units from 1 to {rules.max_units}.",
        )
    limits = [f for f in ("rpm_limit", "tpm_limit") if getattr(spec, f) is not None]
    if limits and not info.rate_limiting:
        raise ValidationFailed(
            f"Rate limiting is 'Not supported' for {info.name} ({', '.join(limits)} given).",
            hint=f"Remove {' and '.join(limits)}; Model Studio cannot limit this model.",
        )
    for field in limits:
        if getattr(spec, field) <= 0:
            raise ValidationFailed(f"{field} must be a positive whole number.")


EARLIEST_START = datetime(2020, 1, 1, tzinfo=BEIJING)


def _limits(rules: BillingRules) -> dict[str, tuple[Decimal, str]]:
    """Each number a spec may carry: its largest value and the unit it is counted in."""
    days = rules.max_duration_days
    return {
        "input_tpm": (Decimal(rules.max_ptu_tpm), "TPM"),
        "output_tpm": (Decimal(rules.max_ptu_tpm), "TPM"),
        "thinking_output_tpm": (Decimal(rules.max_ptu_tpm), "TPM"),
        "rpm_limit": (Decimal(rules.max_rate_limit), "requests per minute"),
        "tpm_limit": (Decimal(rules.max_rate_limit), "tokens per minute"),
        "max_context_length": (Decimal(rules.max_context_tokens), "tokens"),
        "max_input_tokens": (Decimal(rules.max_context_tokens), "tokens"),
        "hours": (Decimal(days * 24), "hours"),
        "days": (Decimal(days), "days"),
        "months": (Decimal(rules.max_months), "months"),
        "duration_seconds": (Decimal(days * 86_400), "seconds"),
        "cancel_after_seconds": (Decimal(days * 86_400), "seconds"),
    }


def check_bounds(spec: Any, rules: BillingRules = DEFAULT_RULES) -> None:
    """Refuse any number beyond its range (the limit in the text) before anything computes
    with it, and a prepaid start outside the calendar window, so nothing overflows."""
    for field, (most, unit) in _limits(rules).items():
        value = getattr(spec, field, None)
        if value is None:
            continue
        number = Decimal(value)
        if not number.is_finite() or number > most:
            shown = "duration" if field == "duration_seconds" else field
            raise ValidationFailed(
                f"{shown}={value} is out of range: it can be at most {most:,} {unit}.",
                hint=f"Give {shown} of at most {most:,} {unit}.",
            )
    start = getattr(spec, "start", None)
    if start is not None:
        latest = utcnow() + timedelta(days=rules.max_start_ahead_days)
        try:
            inside = EARLIEST_START <= ensure_aware(start) <= latest
        except OverflowError:  # a time at the calendar's very edge, in another zone
            inside = False
        if not inside:
            # As typed: a Beijing time is shown without the zone's offset (zoneinfo gives year 1
            # Beijing's local mean time, +08:05:43, which nobody wrote).
            typed = start.replace(tzinfo=None) if start.tzinfo in (None, BEIJING) else start
            raise ValidationFailed(
                f"start={typed.isoformat()} is outside the order calendar: give a start from "
                f"{EARLIEST_START:%Y-%m-%d} to {latest.astimezone(BEIJING):%Y-%m-%d} "
                f"(at most {rules.max_start_ahead_days} days ahead), Beijing time.",
                hint="Drop start= to order now.",
            )


def _check_durations(spec: DeploySpec, rules: BillingRules) -> None:
    given = [f for f in _DURATIONS if getattr(spec, f) is not None]
    if len(given) > 1:
        raise ValidationFailed(
            f"Give one duration, not {len(given)} ({', '.join(given)}).",
            hint="Use one of hours=, days=, months= or duration=.",
        )
    for field in given:
        value = getattr(spec, field)
        if value <= 0:
            shown = "duration" if field == "duration_seconds" else field
            raise ValidationFailed(
                f"{shown} must be more than zero (got {value}).",
                hint="Give a positive duration, or none to see per-hour, per-day and per-30-day "
                "figures.",
            )
    if spec.hours is not None and not spec.hours.is_finite():
        raise ValidationFailed("hours must be a finite number.")
    prepaid = spec.billing in ("upfront", "monthly")
    if spec.start is not None and not prepaid:
        raise ValidationFailed(
            "start= only applies to prepaid orders (PTU upfront, MU monthly).",
            hint="Drop start=, or use billing=upfront (PTU) or billing=monthly (MU).",
        )
    if spec.cancel_after_seconds is not None:
        if not prepaid:
            raise ValidationFailed(
                "cancel_after= only applies to prepaid orders (PTU upfront, MU monthly); "
                f"{spec.billing} billing simply stops when you unpublish.",
                hint="Drop cancel_after=, or estimate billing=upfront / billing=monthly.",
            )
        if spec.cancel_after_seconds <= 0:
            raise ValidationFailed(
                "cancel_after must be more than zero.", hint="Give a duration such as 10d7h."
            )
        window = rules.cancel_window_days
        if spec.cancel_after_seconds > window * 86_400:
            raise ValidationFailed(
                f"A prepaid order can only be cancelled within its first {window} days; "
                "after that it cannot be terminated early.",
                hint=f"Give cancel_after of at most {window}d, or let the order run to its "
                "expiry (turn auto-renewal off to stop it renewing).",
            )
    if spec.hours_per_day is not None and not Decimal(0) < spec.hours_per_day <= 24:
        raise ValidationFailed(
            f"hours_per_day={spec.hours_per_day} is out of range.",
            hint="Give how many hours a day the deployment runs, more than 0 and at most 24.",
        )


def check_context(
    info: ModelInfo, max_context: int | None = None, max_input: int | None = None
) -> None:
    """Refuse a context window or max input beyond the model's (or a change to a fixed one)."""
    if max_context is not None:
        if max_context <= 0:
            raise ValidationFailed("max_context must be a positive number of tokens.")
        if info.max_context is not None and info.context_fixed and max_context != info.max_context:
            raise ValidationFailed(
                f"The context window of {info.name} is fixed at {info.max_context:,} tokens "
                f"(asked {max_context:,}).",
                hint="Drop the context setting.",
            )
        if info.max_context is not None and max_context > info.max_context:
            raise ValidationFailed(
                f"{info.name} supports a context window of at most {info.max_context:,} tokens "
                f"(asked {max_context:,}).",
                hint=f"Use {info.max_context:,} or less.",
            )
    if max_input is not None and info.max_input is not None and max_input > info.max_input:
        raise ValidationFailed(
            f"{info.name} accepts at most {info.max_input:,} input tokens (asked {max_input:,}).",
            hint=f"Use {info.max_input:,} or less; longer inputs overflow to pay-as-you-go.",
        )


def validate_spec(
    spec: DeploySpec, catalog: Catalog, rules: BillingRules = DEFAULT_RULES
) -> DeploySpec:
    """Check a spec and return it normalised (canonical model name, the model's only mode)."""
    check_bounds(spec, rules)
    model = catalog.resolve_model(spec.model)
    info = catalog.model_info(model)
    if spec.plan not in info.plans:
        other = ", ".join(info.plans)
        raise ValidationFailed(
            f"{model} cannot be deployed on the {spec.plan} plan; it supports {other}.",
            hint=f"Use plan={info.plans[0]}, or run `models` to find a model offered on "
            f"{spec.plan}.",
        )
    mode = spec.mode
    # An MU model's mode is its model type (qwen3-vl-8b-thinking thinks): it is not a choice.
    if len(info.modes) == 1 and (spec.plan == "mu" or "mode" not in spec.model_fields_set):
        mode = info.modes[0]
    if mode not in info.modes:
        raise ValidationFailed(
            f"{model} has no {mode} mode.", hint=f"Use mode={' or mode='.join(info.modes)}."
        )
    methods = BILLING_METHODS[spec.plan]
    if spec.billing not in methods:
        raise ValidationFailed(
            f"billing={spec.billing} is not available on the {spec.plan} plan.",
            hint=f"{spec.plan} bills {' or '.join(methods)}; use billing={methods[0]} or "
            f"billing={methods[1]}.",
        )
    if spec.plan == "ptu":
        limits = [f for f in ("rpm_limit", "tpm_limit") if getattr(spec, f) is not None]
        if limits:
            raise ValidationFailed(
                f"Rate limits ({', '.join(limits)}) apply to MU deployments only.",
                hint=f"Remove {' and '.join(limits)}: PTU capacity is itself a TPM reservation.",
            )
        _check_ptu_capacity(spec, info, rules)
    else:
        _check_mu_capacity(spec, info, rules)
    _check_durations(spec, rules)
    check_context(
        info,
        max_context=getattr(spec, "max_context_length", None),
        max_input=getattr(spec, "max_input_tokens", None),
    )
    update: dict[str, Any] = {"model": model, "mode": mode}
    if spec.hours_per_day is not None:
        update["compare"] = True
    return spec.model_copy(update=update)


def check_billing_change(old: Any, new: Any) -> None:
    """ConflictError when a deployment's billing method would change (unpublish and redeploy)."""
    old_method = getattr(old, "billing", old)
    new_method = getattr(new, "billing", new)
    if old_method == new_method:
        return
    name = getattr(old, "name", None) or getattr(old, "deployed_model", None) or "a deployment"
    raise ConflictError(
        f"The billing method of {name} cannot be changed after creation "
        f"({old_method} → {new_method}).",
        hint=f"To switch, unpublish it and deploy it again with billing={new_method}.",
    )
