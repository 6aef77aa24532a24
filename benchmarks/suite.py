"""Every benchmark's rows in one table (`benchmarks/run`): what each `bench_*.py` measures,
collected through its `rows(quick)`, a failing benchmark shown as a failed row."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from table import Row, format_table

# (name for --only, module): in the order the table shows them
BENCHMARKS: list[tuple[str, str]] = [
    ("slack", "bench_slack"),
    ("slack-forms", "bench_slack_modals"),
    ("cli", "bench_cli_start"),
    ("panel", "bench_panel"),
    ("rest", "bench_rest"),
    ("metering", "bench_metering"),
    ("pricing", "bench_accrual"),
    ("cost", "bench_cost_scale"),
    ("forecast", "bench_forecast"),
    ("planner", "bench_planner"),
]


def collect(
    quick: bool,
    only: set[str] | None = None,
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[Row]:
    """Run the chosen benchmarks one after the other and return all their rows."""
    out: list[Row] = []
    for name, module_name in BENCHMARKS:
        if only is not None and name not in only:
            continue
        say(f"running {module_name} ({'quick' if quick else 'full'}) ...")
        started = time.perf_counter()
        try:
            module = importlib.import_module(module_name)
            with contextlib.redirect_stdout(sys.stderr):  # stdout holds the table alone
                rows: list[Row] = module.rows(quick=quick)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            say(traceback.format_exc())
            rows = [Row(f"{name}: FAILED ({type(exc).__name__}: {exc})"[:120], "—", "—", "—",
                        "runs", False)]  # fmt: skip
        say(f"  {module_name}: {len(rows)} rows in {time.perf_counter() - started:.1f} s")
        out.extend(rows)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every benchmark; print one table.")
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument(
        "--only", default=None, help=f"comma-separated: {','.join(n for n, _ in BENCHMARKS)}"
    )
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    unknown = (only or set()) - {n for n, _ in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    rows = collect(args.quick, only)
    print(format_table(rows))
    if args.quick:
        print("\n--quick: small sizes; a goal is judged (met yes/NO) only where its size was run.")
    return 1 if any(r.met is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
