"""The benchmark suite's one table is well formed (behaviour only: no timing is asserted).

`benchmarks/run --quick` runs every benchmark at small sizes (a slow test); the quick loop runs
the row collection of the planner benchmark and a benchmark that fails, and the table format.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.suite import collect
from benchmarks.table import HEADER, Row, format_table

ROOT = Path(__file__).resolve().parents[2]


def check_table(text: str, rows: int) -> None:
    lines = text.splitlines()
    assert lines[0].split() == list(HEADER)
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert len(lines) == rows + 2
    starts = [
        i for i, ch in enumerate(lines[1]) if ch == "-" and (i == 0 or lines[1][i - 1] == " ")
    ]
    assert len(starts) == len(HEADER)
    for line in lines[2:]:
        for start in starts[1:]:
            assert line[start - 2 : start] == "  ", line  # every column starts where the rule does


def test_rows_format_as_one_aligned_table() -> None:
    rows = [
        Row("a figure", "1.0 ms", "2.0 ms baseline", "0.50×", "≤ 1×", True),
        Row("a longer figure name", "3 s", "1 s", "3.00×", "≤ 2×", False),
        Row("no goal", "—", "—", "—", "—", None),
    ]
    text = format_table(rows)
    check_table(text, 3)
    assert [line.split()[-1] for line in text.splitlines()[2:]] == ["yes", "NO", "—"]


def test_collect_runs_a_benchmark_and_shows_a_broken_one_as_a_failed_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import benchmarks.suite as suite

    monkeypatch.setattr(
        suite, "BENCHMARKS", [("planner", "bench_planner"), ("broken", "bench_does_not_exist")]
    )
    rows = collect(quick=True, say=lambda _: None)
    assert len(rows) == 2
    planner, broken = rows
    assert planner.figure.startswith("planner, all options") and "DIFFER" not in planner.figure
    assert planner.ratio.endswith("× faster") and planner.met is None  # quick: not judged
    assert broken.figure.startswith("broken: FAILED") and broken.met is False
    check_table(format_table(rows), 2)


@pytest.mark.slow
def test_benchmarks_run_quick_prints_one_table() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run"), "--quick"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    table = proc.stdout.split("\n\n--quick")[0]
    rows = table.splitlines()[2:]
    assert len(rows) >= 10, proc.stdout + proc.stderr
    check_table(table, len(rows))
    assert "FAILED" not in table, proc.stderr
