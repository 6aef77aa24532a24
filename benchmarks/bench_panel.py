"""Benchmark: `Deck()` in a warm kernel returns (first paint) before anything slow, goal ≤ 300 ms.

A warm kernel has imported modeldeck_jupyter and opened a panel once. Each round then builds
`Deck()` with no arguments (team mode: `MODELDECK_SERVER__URL` points at a local `Stack`),
times its return (the first paint) and, separately, the time until it is filled in
(`panel.wait()`: connect, catalog, estimate, deployments, approvals). The baseline, measured in
the same rounds, builds the same number of plain ipywidgets widgets (what painting costs at all).
The script exits 1 if the median first paint misses the goal.

With `--browser` it measures what a person sees instead: in JupyterLab in Debian's chromium,
the seconds from Run All to the panel visible, in a new kernel (the first run after a kernel
start) and a warm one (the same cell again), goals < 4 s and < 2 s. The baseline, in the same
rounds and the same browser, is a cell showing one plain ipywidgets HTML widget. The kernel runs
the core in-process on a local `Stack` (as tests/browser/test_browser_tabs.py does).

Run: `uv run python benchmarks/bench_panel.py [--rounds 15]` or `… --browser [--rounds 3]`
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import ipywidgets as W

from modeldeck.testing import Stack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table import Row, seconds

GOAL_SECONDS = 0.300
BROWSER_GOALS = {"new kernel": 4.0, "warm kernel": 2.0}
BASELINE_CELL = (
    "import ipywidgets as W\n\nbox = W.HTML('baseline')\nbox.add_class('bench-baseline')\nbox"
)
PANEL_CELL = "from modeldeck_jupyter import Deck\n\npanel = Deck()\npanel"


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
    """The suite's rows: `Deck()` first paint (goal ≤ 300 ms), its fill-in, and (full suite
    only) cell run → panel visible in JupyterLab, new and warm kernel (goals < 4 s, < 2 s)."""
    widgets, paint, fill, floor = measure(5 if quick else 15)
    out = [
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
    if quick:  # a JupyterLab and a browser: minutes, only in the full suite
        return out
    times = browser_times(2)
    for kind, goal in BROWSER_GOALS.items():
        panel = statistics.median(times[("panel", kind)])
        floor = statistics.median(times[("baseline", kind)])
        out.append(
            Row(
                f"cell run → panel visible in JupyterLab, {kind}",
                seconds(panel),
                f"{seconds(floor)} one plain widget",
                f"{panel / floor:.2f}×",
                f"< {goal:g} s",
                panel < goal,
            )
        )
    return out


def browser_times(rounds: int) -> dict[tuple[str, str], list[float]]:
    """Seconds from Run All to visible in JupyterLab, per (cell, kernel): the panel and a plain
    widget, each in a new kernel (just restarted) and a warm one (the same cell again)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' Lab helpers
    from tests.browser.lab import (
        cell_to_panel,
        open_browser,
        open_notebook,
        restart_kernel,
        run_lab,
        write_notebook,
    )

    cells = {
        "baseline": (BASELINE_CELL, ".bench-baseline"),
        "panel": (PANEL_CELL, ".modeldeck-panel"),
    }
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-panel-") as tmp, Stack() as stack:
        base = Path(tmp)
        root = base / "notebooks"
        root.mkdir()
        for name, (source, _) in cells.items():
            write_notebook(root / f"{name}.ipynb", source)
        env = {k: v for k, v in {**os.environ, **stack.env}.items() if k != "MODELDECK_SERVER__URL"}
        with run_lab(base, root, env) as lab, open_browser() as chromium:
            page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            for name, (_, selector) in cells.items():
                open_notebook(page, lab, f"{name}.ipynb")
                for _ in range(rounds):
                    restart_kernel(page, lab)
                    new = cell_to_panel(page, selector=selector)
                    warm = cell_to_panel(page, selector=selector)
                    times.setdefault((name, "new kernel"), []).append(new)
                    times.setdefault((name, "warm kernel"), []).append(warm)
                lab.end_sessions()
    return times


def browser(rounds: int) -> int:
    """Run All → visible in JupyterLab, new and warm kernel, panel against a plain widget."""
    times = browser_times(rounds)
    print(f"JupyterLab + chromium, Run All → visible, {rounds} round(s), medians")
    print(f"{'figure':<34}{'panel':>10}{'baseline':>11}{'ratio':>8}{'goal':>8}  met")
    ok = True
    for kind, goal in BROWSER_GOALS.items():
        panel = statistics.median(times[("panel", kind)])
        floor = statistics.median(times[("baseline", kind)])
        met = panel < goal
        ok = ok and met
        print(
            f"{'cell run → panel visible, ' + kind:<34}{panel:>9.2f}s{floor:>10.2f}s"
            f"{panel / floor:>8.2f}{'<' + format(goal, 'g') + ' s':>8}  {'yes' if met else 'NO'}"
        )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--browser", action="store_true", help="measure in JupyterLab+chromium")
    args = parser.parse_args()
    if args.browser:
        return browser(args.rounds or 3)
    args.rounds = args.rounds or 15
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
