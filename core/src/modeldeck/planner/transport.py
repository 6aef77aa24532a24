"""Sending a plan to a server: the trace file travels as its text, never as a file name.

A server must not open paths its clients name, so the client reads `trace=<file>` and the server
refuses a spec that names a file without its text (`require_trace_text`).
"""

from __future__ import annotations

from pathlib import Path

from modeldeck.errors import UserError
from modeldeck.planner.csv_source import FORMAT_HINT
from modeldeck.planner.spec import PlanSpec
from modeldeck.planner.trace import TraceError

__all__ = ["require_trace_text", "with_trace_text"]


def with_trace_text(spec: PlanSpec) -> PlanSpec:
    """The spec with its trace file's text in `trace_csv` (read here), its name kept."""
    if spec.trace is None or spec.trace_csv is not None:
        return spec
    file = Path(spec.trace)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(file.name, [f"it cannot be read: {exc}"], hint=FORMAT_HINT) from None
    return spec.model_copy(update={"trace": file.name, "trace_csv": text})


def require_trace_text(spec: PlanSpec) -> None:
    """Refuse (on a server) a spec that names a trace file without sending its text."""
    if spec.trace is not None and spec.trace_csv is None:
        raise UserError(
            f"The server does not read files: send the text of {spec.trace!r} as trace_csv.",
            hint="RemoteDeck and the CLI do this for you; in JSON, put the CSV in spec.trace_csv.",
        )
