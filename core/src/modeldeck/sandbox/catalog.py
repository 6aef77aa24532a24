"""The models the sandbox can deploy: the seed's PTU and MU tables (names, plans, modes, limits).

Kept here on purpose (the sandbox stands in for Model Studio and must not depend on modeldeck's
own price catalog). Rate limiting is "Not supported" for every MU model of the seed; a config can
turn it on per model (``SandboxConfig.rate_limit_models``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SandboxModel:
    """One deployable base model."""

    name: str
    display_name: str
    plans: tuple[str, ...]
    modes: tuple[str, ...]
    max_context_tokens: int
    max_input_tokens: int
    deploy_specs: tuple[str, ...] = ()
    base_capacity: int = 1
    rate_limits: bool = False

    @property
    def thinking(self) -> bool:
        return "thinking" in self.modes

    @property
    def instruct(self) -> bool:
        return "instruct" in self.modes

    def as_deployable(self, ptu_plan: str = "ptu") -> dict[str, Any]:
        """The `GET /deployments/models` item: `plans[]`, mu `templates[]` whose `template_id` is
        the deploy spec (`MU1`); PTU listed as `ptu_plan` (`ptu`, or `ptu_v2` as some do)."""
        plans: list[dict[str, Any]] = []
        for plan in self.plans:
            item: dict[str, Any] = {"plan": ptu_plan if plan == "ptu" else plan}
            if plan == "mu":
                item["templates"] = [
                    {
                        "template_id": spec,
                        "deploy_spec": spec,
                        "roles": {
                            "unified": {
                                "deploy_spec": spec,
                                "capacity_unit_per_instance": self.base_capacity,
                            }
                        },
                    }
                    for spec in self.deploy_specs
                ]
                item["rate_limit_supported"] = self.rate_limits
            if plan == "ptu":
                item["max_input_tokens"] = self.max_input_tokens
            plans.append(item)
        return {
            "model_name": self.name,
            "name": self.display_name,
            "model_source": "base",
            "modes": list(self.modes),
            "max_context_length": self.max_context_tokens,
            "max_input_tokens": self.max_input_tokens,
            "plans": plans,
        }


_PTU = ("ptu",)
_MU = ("mu",)
_BOTH = ("instruct", "thinking")
_MU_CONTEXT = 131_072

SEED_MODELS: tuple[SandboxModel, ...] = (
    SandboxModel(
        "qwen3-max-2025-09-23", "Qwen3-Max-2025-09-23", _PTU, ("instruct",), 128_000, 128_000
    ),
    SandboxModel("qwen-plus-2025-12-01", "Qwen-Plus-2025-12-01", _PTU, _BOTH, 128_000, 128_000),
    SandboxModel("qwen-flash-2025-07-28", "Qwen-Flash-2025-07-28", _PTU, _BOTH, 128_000, 128_000),
    SandboxModel(
        "qwen3-vl-plus-2025-09-23", "Qwen3-VL-Plus-2025-09-23", _PTU, _BOTH, 128_000, 128_000
    ),
    SandboxModel("deepseek-v3.2", "DeepSeek-V3.2", _PTU, _BOTH, 64_000, 64_000),
    SandboxModel("qwen3-14b", "Qwen3-14B", _MU, ("instruct",), _MU_CONTEXT, _MU_CONTEXT, ("MU1",)),
    SandboxModel("qwen3-32b", "Qwen3-32B", _MU, ("instruct",), _MU_CONTEXT, _MU_CONTEXT, ("MU1",)),
    SandboxModel(
        "qwen3-vl-8b-instruct",
        "Qwen3-VL-8B-Instruct",
        _MU,
        ("instruct",),
        _MU_CONTEXT,
        _MU_CONTEXT,
        ("MU1",),
    ),
    SandboxModel(
        "qwen3-vl-8b-thinking",
        "Qwen3-VL-8B-Thinking",
        _MU,
        ("thinking",),
        _MU_CONTEXT,
        _MU_CONTEXT,
        ("MU1",),
    ),
)


def model_table(rate_limit_models: list[str] | None = None) -> dict[str, SandboxModel]:
    """Models by name; `rate_limit_models` (when given) says which MU models accept rate limits."""
    table: dict[str, SandboxModel] = {}
    for model in SEED_MODELS:
        if rate_limit_models is not None and "mu" in model.plans:
            model = SandboxModel(
                **{**model.__dict__, "rate_limits": model.name in rate_limit_models}
            )
        table[model.name] = model
    return table
