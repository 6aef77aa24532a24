"""The form offers only what the catalog lists for the chosen model."""

from __future__ import annotations

from typing import Any

from modeldeck_jupyter.choices import Choices

ROWS: list[dict[str, Any]] = [
    {"model": "qwen-plus-2025-12-01", "mode": "instruct", "plan": "ptu"},
    {"model": "qwen-plus-2025-12-01", "mode": "thinking", "plan": "ptu"},
    {"model": "qwen-flash-2025-07-28", "mode": "instruct, thinking", "plan": "ptu"},
    {"model": "qwen3-vl-8b-thinking", "mode": ["thinking"], "plan": "mu"},
    {"model": "qwen3-32b", "mode": "instruct", "plan": "payg"},
    {"model": "qwen3-32b", "mode": "instruct", "plan": "mu"},
]


def test_models_in_catalog_order_without_payg_only_models() -> None:
    choices = Choices([*ROWS, {"model": "payg-only", "plan": "payg"}])
    assert choices.models() == [
        "qwen-plus-2025-12-01",
        "qwen-flash-2025-07-28",
        "qwen3-vl-8b-thinking",
        "qwen3-32b",
    ]


def test_plans_modes_and_billings_follow_the_model() -> None:
    choices = Choices(ROWS)
    assert choices.plans("qwen3-32b") == ["mu"]
    assert choices.modes("qwen-plus-2025-12-01", "ptu") == ["instruct", "thinking"]
    assert choices.modes("qwen-flash-2025-07-28", "ptu") == ["instruct", "thinking"]
    assert choices.modes("qwen3-vl-8b-thinking", "mu") == ["thinking"]
    assert choices.billings("ptu") == ["hourly", "upfront"]
    assert choices.billings("mu") == ["hourly", "monthly"]
    assert choices.plans("unknown") == []
