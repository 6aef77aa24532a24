"""The one table every benchmark reports into: figure, modeldeck, baseline, ratio, goal, met.

Each `bench_*.py` has `rows(quick: bool) -> list[Row]` (what `benchmarks/run` collects) next to
its own `main()`; the baseline of a row is always measured in the same run as modeldeck's figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One measured figure against its same-run baseline.

    `ratio` is modeldeck / baseline (or the figure the goal is written in, e.g. a speed-up);
    `met` is None when the row has no goal (or the quick sizes cannot judge it).
    """

    figure: str
    modeldeck: str
    baseline: str
    ratio: str
    goal: str
    met: bool | None

    def cells(self) -> tuple[str, ...]:
        met = "—" if self.met is None else ("yes" if self.met else "NO")
        return (self.figure, self.modeldeck, self.baseline, self.ratio, self.goal, met)


HEADER = ("figure", "modeldeck", "baseline", "ratio", "goal", "met")


def seconds(value: float) -> str:
    """A duration with a unit that keeps three significant digits."""
    if value != value:  # NaN: not measured
        return "—"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.1f} µs"


def times(value: float) -> str:
    return f"{value:.2f}×"


def format_table(rows: Sequence[Row]) -> str:
    """The rows as one aligned text table (a header, a rule, a line per row)."""
    cells = [HEADER, *(r.cells() for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(HEADER))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
