"""The PTU wire unit, converted in this one place: users and modeldeck speak tokens per minute.

The reservations generation sends ``ptu_capacity`` in kTPM (1 kTPM = 1,000 tokens per minute, as
Alibaba's CLI does); the legacy generation in TPM. Everything above the client sees TPM only.
"""

from __future__ import annotations

from typing import Any, Literal

from modeldeck.errors import ValidationFailed

PtuUnit = Literal["ktpm", "tpm"]
Generation = Literal["reservations", "legacy"]
TPM_PER_KTPM = 1000
CAPACITY_KEYS = ("input_tpm", "output_tpm", "thinking_output_tpm")
QUOTA_ALIASES = {"input_tpm_quota": "input_tpm", "output_tpm_quota": "output_tpm"}


def unit_for(generation: Generation, override: PtuUnit | None = None) -> PtuUnit:
    """The wire unit: the override if set, else kTPM for reservations and TPM for legacy."""
    if override is not None:
        return override
    return "ktpm" if generation == "reservations" else "tpm"


def to_wire(capacity: dict[str, Any], unit: PtuUnit) -> dict[str, Any]:
    """A TPM capacity as the wire wants it; ValidationFailed if not a whole number of kTPM."""
    out = dict(capacity)
    if unit == "tpm":
        return out
    for key in CAPACITY_KEYS:
        value = out.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value % TPM_PER_KTPM:
            raise ValidationFailed(
                f"PTU {key}={value} tokens per minute is not a whole number of thousands: "
                "Model Studio reserves PTU in kTPM (1,000 tokens per minute).",
                hint=f"Use a multiple of 1000, e.g. {key}={_round_up(value)}.",
            )
        out[key] = value // TPM_PER_KTPM
    return out


def from_wire(capacity: Any, unit: PtuUnit) -> Any:
    """A wire capacity (either shape, `*_tpm_quota` included) in tokens per minute."""
    if not isinstance(capacity, dict):
        return capacity
    out = dict(capacity)
    for alias, key in QUOTA_ALIASES.items():
        if alias in out and out.get(key) is None:
            out[key] = out.pop(alias)
    if unit == "tpm":
        return out
    for key in CAPACITY_KEYS:
        value = out.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = round(value * TPM_PER_KTPM)
    return out


def _round_up(value: Any) -> int:
    try:
        return max(TPM_PER_KTPM, -(-int(value) // TPM_PER_KTPM) * TPM_PER_KTPM)
    except (TypeError, ValueError):
        return TPM_PER_KTPM
