"""The capacity planner: what a team should have bought, given what it actually used.

Traces (per-minute tokens) come from a CSV file (`read_csv_trace`), modeldeck's metering
(`trace_from_metering`) or Model Studio's monitoring (`PrometheusUsage.trace`); `plan` prices
every option exactly (docs/planner.md) and `render_plan_text` shows the answer;
`PlanResult.model_dump(mode="json")` is the `--json` form.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from modeldeck.planner.csv_source import parse_csv_trace, read_csv_trace
from modeldeck.planner.options import MuUnitTpm
from modeldeck.planner.plan import plan
from modeldeck.planner.render import render_plan_text
from modeldeck.planner.result import (
    OPTION_NAMES,
    CurrentCapacity,
    CurvePoint,
    OptionResult,
    PlanResult,
    ScheduleHour,
    Sensitivity,
    TraceSummary,
)
from modeldeck.planner.trace import Trace, TraceError

if TYPE_CHECKING:
    from modeldeck.planner.metering_source import trace_from_metering
    from modeldeck.planner.prometheus_source import PrometheusUsage, usage_query

# The trace sources that need the store (SQLAlchemy, Alembic) or HTTP are imported when first
# used (PEP 562): the grammar imports `planner.result` for `plan`, and a notebook's first paint
# must not pay for the metering store.
_LAZY = {
    "trace_from_metering": "modeldeck.planner.metering_source",
    "PrometheusUsage": "modeldeck.planner.prometheus_source",
    "usage_query": "modeldeck.planner.prometheus_source",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "OPTION_NAMES",
    "CurrentCapacity",
    "CurvePoint",
    "MuUnitTpm",
    "OptionResult",
    "PlanResult",
    "PrometheusUsage",
    "ScheduleHour",
    "Sensitivity",
    "Trace",
    "TraceError",
    "TraceSummary",
    "parse_csv_trace",
    "plan",
    "read_csv_trace",
    "render_plan_text",
    "trace_from_metering",
    "usage_query",
]
