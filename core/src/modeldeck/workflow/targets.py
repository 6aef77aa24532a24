"""Targets: the complete state a request on an existing deployment is approved for.

A scale request naming only `in=` is filled at request time with the deployment's current `out=`
(and its billing), and the deployment's capacity then is kept as the request's basis. If the
deployment changes or vanishes before the request is approved or run, the approval would be for
a capacity nobody saw: the request is stale instead, and says why.
"""

from __future__ import annotations

from typing import Any

from modeldeck.domain import DeploymentRecord, DeploySpec, RequestRecord, ScaleSpec

GONE = {"DELETED", "DELETING", "OFFLINING"}
CAPACITY = ("units", "input_tpm", "output_tpm", "thinking_output_tpm")
LIMITS = ("rpm_limit", "tpm_limit")


def basis_of(dep: DeploymentRecord) -> dict[str, Any]:
    """What a request on `dep` was asked against: its billing, capacity and limits."""
    return {
        "billing": dep.billing,
        **{key: getattr(dep, key) for key in CAPACITY + LIMITS},
    }


def scale_target(dep: DeploymentRecord, spec: ScaleSpec) -> tuple[ScaleSpec, DeploySpec]:
    """The absolute capacity a scale asks for, every direction filled from `dep` at request time."""
    if dep.plan == "mu":
        filled = spec.model_copy(
            update={"units": spec.units, "input_tpm": None, "output_tpm": None}
        )
    else:
        thinking = spec.thinking_output_tpm
        if thinking is None and dep.mode == "thinking":
            thinking = dep.thinking_output_tpm
        filled = spec.model_copy(
            update={
                "units": None,
                "input_tpm": spec.input_tpm if spec.input_tpm is not None else dep.input_tpm,
                "output_tpm": spec.output_tpm if spec.output_tpm is not None else dep.output_tpm,
                "thinking_output_tpm": thinking,
            }
        )
    target = DeploySpec(
        model=dep.model,
        plan=dep.plan,
        mode=dep.mode,
        billing=dep.billing,
        units=filled.units,
        input_tpm=filled.input_tpm,
        output_tpm=filled.output_tpm,
        thinking_output_tpm=filled.thinking_output_tpm,
    )
    return filled.model_copy(update={"deployment": dep.id}), target


def stale_reason(record: RequestRecord, dep: DeploymentRecord | None) -> str | None:
    """Why `record` no longer describes what would run on `dep` (None while it still does)."""
    if record.deployment_id is None or record.kind == "deploy":
        return None
    if dep is None or dep.status in GONE:
        return f"deployment {record.deployment_id} was unpublished since the request was made"
    if record.basis is None:
        return None  # stored before targets were recorded: nothing to compare with
    keys: tuple[str, ...] = ()
    if record.kind in ("scale", "schedule"):
        keys = ("billing", *CAPACITY)
    elif record.kind == "limits":
        keys = LIMITS
    now = basis_of(dep)
    changed = [k for k in keys if record.basis.get(k) != now.get(k)]
    if not changed:
        return None
    detail = ", ".join(f"{k} {record.basis.get(k)} -> {now.get(k)}" for k in changed)
    return f"{dep.deployed_model or dep.id} changed since the request was made ({detail})"


def refusal(record: RequestRecord, dep: DeploymentRecord) -> str | None:
    """Why execution must not carry out `record` on `dep` (None: run it exactly as approved).

    A deployment that already holds the target (a recovered execution that got that far) is
    not a change since the request, so it is run again (the provider call is idempotent).
    """
    if record.kind == "unpublish":
        return None  # the provider answers for a deployment that is already going
    held = basis_of(dep)
    if record.kind == "scale" and record.target is not None:
        wanted = {k: getattr(record.target, k) for k in CAPACITY if getattr(record.target, k)}
        if all(held.get(k) == v for k, v in wanted.items()) and dep.status not in GONE:
            return None
    if record.kind == "limits" and record.limits is not None:
        wanted = {k: getattr(record.limits, k) for k in LIMITS}
        if all(held.get(k) == v for k, v in wanted.items()) and dep.status not in GONE:
            return None
    return stale_reason(record, dep)
