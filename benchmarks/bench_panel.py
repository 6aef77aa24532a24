"""Benchmark: `Deck()` in a warm kernel returns (first paint) before anything slow, goal ≤ 300 ms.

A warm kernel has imported modeldeck_jupyter and opened a panel once. Each round then builds
`Deck()` with no arguments (team mode: `MODELDECK_SERVER__URL` points at a local `Stack`),
times its return (the first paint) and, separately, the time until it is filled in
(`panel.wait()`: connect, catalog, estimate, deployments, approvals). The baseline, measured in
the same rounds, builds the same number of plain ipywidgets widgets (what painting costs at all).
The script exits 1 if the median first paint misses the goal.

Run: `uv run python benchmarks/bench_panel.py [--rounds 15]`
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import ipywidgets as W

from modeldeck.testing import Stack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table import Row, seconds

GOAL_SECONDS = 0.300


def count_widgets(root: W.Widget) -> int:
    return 1 + sum(count_widgets(c) for c in getattr(root, "children", ()))


def baseline(n: int) -> float:
    """Seconds to build `n` plain widgets in one box (the floor of any first paint)."""
    start = time.perf_counter()
    box = W.VBox([W.Text(description=f"field {i}") for i in range(n)])
    elapsed = time.perf_counter() - start
    box.close()
    for child in box.children:
        child.close()
    return elapsed


def measure(rounds: int) -> tuple[int, float, float, float]:
    """(widgets, median first paint s, median filled-in s, median plain-widgets floor s)."""
    with Stack() as stack:
        os.environ.update(stack.env)
        from modeldeck_jupyter import Deck

        warm = Deck(auto_refresh=False).wait()  # the kernel is warm after one panel
        widgets = count_widgets(warm.widget)
        warm.close()
        paints, fills, floors = [], [], []
        for _ in range(rounds):
            floors.append(baseline(widgets))
            start = time.perf_counter()
            panel = Deck(auto_refresh=False)
            paints.append(time.perf_counter() - start)
            panel.wait()
            fills.append(time.perf_counter() - start)
            assert panel.problem is None, panel.problem
            panel.close()
    paint, fill, floor = (statistics.median(x) for x in (paints, fills, floors))
    return widgets, paint, fill, floor


def rows(quick: bool = False) -> list[Row]:
    """The suite's rows: `Deck()` first paint (goal ≤ 300 ms) and its fill-in."""
    widgets, paint, fill, floor = measure(5 if quick else 15)
    return [
        Row(
            f"panel `Deck()` returns (first paint, warm kernel, {widgets} widgets)",
            seconds(paint),
            f"{seconds(floor)} building as many plain widgets",
            f"{paint / floor:.2f}×",
            "≤ 300 ms",
            paint <= GOAL_SECONDS,
        ),
        Row("panel filled in (`wait()`)", seconds(fill), "—", "—", "—", None),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    widgets, paint, fill, floor = measure(args.rounds)
    met = paint <= GOAL_SECONDS
    print(f"panel widgets: {widgets}, rounds: {args.rounds} (medians)")
    print(f"{'figure':<34}{'modeldeck':>12}{'baseline':>12}{'ratio':>8}{'goal':>10}  met")
    print(
        f"{'Deck() returns (first paint)':<34}{paint * 1000:>10.1f}ms{floor * 1000:>10.1f}ms"
        f"{paint / floor:>8.2f}{'≤300ms':>10}  {'yes' if met else 'NO'}"
    )
    print(f"{'Deck() filled in (wait())':<34}{fill * 1000:>10.1f}ms{'—':>12}{'—':>8}{'—':>10}  —")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
