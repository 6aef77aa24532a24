"""What the `plan` verb asks the planner: a model, where its trace comes from, and how to plan it.

A plain pydantic model (no store, no network), so the grammar can carry it and `RemoteDeck` can
send it as JSON. `trace` is the file name as written; `trace_csv` is that file's text, read where
the file is (the CLI, the notebook), because a server never reads a client's file names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from modeldeck.money import DecimalStr
from modeldeck.planner.result import OptionName

__all__ = ["PlanSpec", "TraceSource"]

TraceSource = Literal["csv", "metering", "prometheus"]


class PlanSpec(BaseModel):
    """`plan <model> [trace=<file>|deployment=<ref>|prometheus] [period=…] [mode=…] …`."""

    model_config = ConfigDict(extra="forbid")

    model: str
    trace: str | None = None
    trace_csv: str | None = None
    deployment: str | None = None
    prometheus: bool = False
    period: str | None = None
    mode: Literal["instruct", "thinking"] | None = None
    coverage: DecimalStr | None = None
    options: list[OptionName] | None = None

    @property
    def source(self) -> TraceSource:
        """Where the trace comes from: a CSV file, modeldeck's metering or Prometheus."""
        if self.prometheus:
            return "prometheus"
        if self.trace is not None or self.trace_csv is not None:
            return "csv"
        return "metering"
