"""The capacity planner: what a team should have bought, given what it actually used.

Traces (per-minute tokens) come from a CSV file (`read_csv_trace`), modeldeck's metering
(`trace_from_metering`) or Model Studio's monitoring (`PrometheusUsage.trace`); `plan` prices
every option exactly (docs/planner.md) and `render_plan_text` shows the answer;
`PlanResult.model_dump(mode="json")` is the `--json` form.

The names below load on first use: the grammar imports `planner.result` and `planner.spec`
for every CLI call, which must not pull in the optimizer, httpx or the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modeldeck.planner.csv_source import parse_csv_trace, read_csv_trace
    from modeldeck.planner.metering_source import trace_from_metering
    from modeldeck.planner.options import MuUnitTpm
    from modeldeck.planner.prometheus_source import PrometheusUsage, usage_query
    from modeldeck.planner.recommend import plan
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

_WHERE = {
    "CurrentCapacity": "modeldeck.planner.result",
    "CurvePoint": "modeldeck.planner.result",
    "MuUnitTpm": "modeldeck.planner.options",
    "OPTION_NAMES": "modeldeck.planner.result",
    "OptionResult": "modeldeck.planner.result",
    "PlanResult": "modeldeck.planner.result",
    "PrometheusUsage": "modeldeck.planner.prometheus_source",
    "ScheduleHour": "modeldeck.planner.result",
    "Sensitivity": "modeldeck.planner.result",
    "Trace": "modeldeck.planner.trace",
    "TraceError": "modeldeck.planner.trace",
    "TraceSummary": "modeldeck.planner.result",
    "parse_csv_trace": "modeldeck.planner.csv_source",
    "plan": "modeldeck.planner.recommend",
    "read_csv_trace": "modeldeck.planner.csv_source",
    "render_plan_text": "modeldeck.planner.render",
    "trace_from_metering": "modeldeck.planner.metering_source",
    "usage_query": "modeldeck.planner.prometheus_source",
}

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


def __getattr__(name: str) -> Any:
    """Import a planner name when it is first asked for (then it is an attribute)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
