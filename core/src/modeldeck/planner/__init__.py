"""The capacity planner: what a team should have bought, given what it actually used.

Traces (per-minute tokens) come from a CSV file (`read_csv_trace`) or modeldeck's metering
(`trace_from_metering`).
"""

from __future__ import annotations

from modeldeck.planner.csv_source import parse_csv_trace, read_csv_trace
from modeldeck.planner.metering_source import trace_from_metering
from modeldeck.planner.trace import Trace, TraceError

__all__ = ["Trace", "TraceError", "parse_csv_trace", "read_csv_trace", "trace_from_metering"]
