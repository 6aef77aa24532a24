"""Moved to :mod:`modeldeck.workflow.costs`; kept so existing imports and the grammar work.

`cost_report` here still answers text + the JSON dict (what `commands.py` renders); the typed
:class:`~modeldeck.workflow.costs.CostReport` is what `DeckAPI.cost` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modeldeck.workflow.context import WorkflowContext
from modeldeck.workflow.costs import (
    CostReport,
    deployment_accruals,
    render_cost_text,
    resolve_period,
)
from modeldeck.workflow.costs import cost_report as typed_cost_report


@dataclass
class CostText:
    """A cost query's answer as text for people and a dict for machines (the old shape)."""

    text: str
    data: dict[str, Any]
    report: CostReport


def cost_report(
    deck: WorkflowContext, target: str | None, period: str | None, now: datetime | None = None
) -> CostText:
    """The `cost` command's answer: the typed report, rendered as text and as its JSON dict."""
    report = typed_cost_report(deck, target, period, now)
    return CostText(text=render_cost_text(report), data=report.as_data(), report=report)


__all__ = [
    "CostReport",
    "CostText",
    "cost_report",
    "deployment_accruals",
    "render_cost_text",
    "resolve_period",
    "typed_cost_report",
]
