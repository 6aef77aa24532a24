"""Benchmark: plan a 30-day per-minute trace (43,200 minutes) for every option, against a sweep.

`modeldeck.planner.plan` finds each option's exact optimum by sorting and prefix sums. The
baseline is what sweep simulators do: for every capacity level from one unit up to the trace's
peak, simulate every minute (coverage and overflow) and keep the cheapest level that meets the
coverage. Both run in the same process, on the same trace, and must give identical capacities
and totals for every option (hourly, upfront, schedule per Beijing hour, payg). The script exits
1 if they don't.

Run: `uv run python benchmarks/bench_planner.py [--days 30] [--coverage 0.95] [--scale 1]`
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any, TypeVar

from modeldeck.billing.rules import money_context
from modeldeck.catalog import Catalog, load_catalog
from modeldeck.catalog.exact import quotient
from modeldeck.money import round_cents
from modeldeck.planner import PlanResult, Trace, plan
from modeldeck.timeutil import BEIJING

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Row
from table import seconds as table_seconds

T = TypeVar("T")
MODEL = "qwen3-max-2025-09-23"
IN_STEP, OUT_STEP = 10_000, 1_000


def make_trace(days: int, seed: int, scale: float = 1.0) -> Trace:
    """A team's month: a Beijing working-day curve, quieter weekends, noise and short bursts."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=BEIJING)
    inputs, outputs = [], []
    for i in range(days * 1440):
        hour = (i // 60) % 24 + (i % 60) / 60
        day = (i // 1440) % 7
        level = 0.15 + 0.85 * max(0.0, math.sin(math.pi * (hour - 8) / 12)) ** 1.5
        level *= 0.45 if day >= 5 else 1.0
        burst = 2.5 if rng.random() < 0.004 else 1.0
        tokens = scale * max(0.0, rng.gauss(90_000 * level * burst, 12_000 * level))
        inputs.append(int(tokens))
        outputs.append(int(tokens * rng.uniform(0.06, 0.12)))
    return Trace(source="synthetic", start=start, input_tokens=inputs, output_tokens=outputs)


Simulate = Callable[[Sequence[int], int, Decimal], tuple[int, Decimal]]


def per_minute(values: Sequence[int], cap: int, rate: Decimal) -> tuple[int, Decimal]:
    """The straightforward simulation: each minute served up to `cap`, the rest priced."""
    served, cost = 0, Decimal(0)
    for x in values:
        within = x if x < cap else cap
        served += within
        cost += rate * (x - within)
    return served, cost


def summed(values: Sequence[int], cap: int, rate: Decimal) -> tuple[int, Decimal]:
    """The same simulation with integer sums and one multiplication (a tuned sweep)."""
    excess = sum(x - cap for x in values if x > cap)
    return sum(values) - excess, rate * excess


def sweep_direction(
    simulate: Simulate,
    values: Sequence[int],
    step: int,
    unit_cost: Decimal,
    rate: Decimal,
    coverage: Decimal | None,
) -> tuple[int, Decimal]:
    """Simulate every capacity level; the cheapest that meets coverage (smallest on ties)."""
    total = sum(values)
    best: tuple[int, Decimal] | None = None
    for k in range(1, max(1, -(-max(values) // step)) + 1):
        served, overflow = simulate(values, k * step, rate)
        if coverage is not None and served < coverage * total:
            continue
        cost = k * unit_cost + overflow
        if best is None or cost < best[1]:
            best = (k, cost)
    assert best is not None
    return best


def sweep(
    trace: Trace, catalog: Catalog, coverage: Decimal | None, simulate: Simulate
) -> dict[str, tuple]:
    """Every option by simulation: (input TPM, output TPM, total in cents[, schedule])."""
    price = lambda plan_, name, tier=None: catalog.amount(MODEL, "instruct", plan_, name, tier)  # noqa: E731
    tier = catalog.tiers(MODEL, "instruct")[0].name
    r_in = quotient(price("payg", "input", tier), 1_000_000)
    r_out = quotient(price("payg", "output", tier), 1_000_000)
    ins, outs, m = trace.input_tokens, trace.output_tokens, trace.minutes
    out: dict[str, tuple] = {}
    with localcontext(money_context()):
        out["payg"] = (0, 0, round_cents(r_in * sum(ins) + r_out * sum(outs)))
        for billing, p_in, p_out in (
            ("hourly", "input_hourly", "output_hourly"),
            ("upfront", "input_daily", "output_daily"),
        ):
            if billing == "hourly":
                u_in, u_out = (
                    quotient(price("ptu", p_in) * m, 60),
                    quotient(price("ptu", p_out) * m, 60),
                )
            else:
                days = -(-m // 1440)
                u_in, u_out = price("ptu", p_in) * days, price("ptu", p_out) * days
            k_in, _ = sweep_direction(simulate, ins, IN_STEP, u_in, r_in, coverage)
            k_out, _ = sweep_direction(simulate, outs, OUT_STEP, u_out, r_out, coverage)
            excess = r_in * sum(max(0, x - k_in * IN_STEP) for x in ins)
            excess += r_out * sum(max(0, x - k_out * OUT_STEP) for x in outs)
            if billing == "hourly":
                reserved = quotient(
                    (k_in * price("ptu", p_in) + k_out * price("ptu", p_out)) * m, 60
                )
            else:
                reserved = k_in * u_in + k_out * u_out
            out[billing] = (k_in * IN_STEP, k_out * OUT_STEP, round_cents(reserved + excess))
        offset = trace.start.astimezone(BEIJING).hour * 60 + trace.start.astimezone(BEIJING).minute
        groups: dict[int, list[int]] = {}
        for i in range(m):
            groups.setdefault(((offset + i) // 60) % 24, []).append(i)
        unit_minutes_in = unit_minutes_out = 0
        overflow = Decimal(0)
        hours = {}
        for hour, minutes in sorted(groups.items()):
            g_in, g_out = [ins[i] for i in minutes], [outs[i] for i in minutes]
            u_in = quotient(price("ptu", "input_hourly") * len(minutes), 60)
            u_out = quotient(price("ptu", "output_hourly") * len(minutes), 60)
            k_in, _ = sweep_direction(simulate, g_in, IN_STEP, u_in, r_in, coverage)
            k_out, _ = sweep_direction(simulate, g_out, OUT_STEP, u_out, r_out, coverage)
            unit_minutes_in += k_in * len(minutes)
            unit_minutes_out += k_out * len(minutes)
            overflow += r_in * sum(max(0, x - k_in * IN_STEP) for x in g_in)
            overflow += r_out * sum(max(0, x - k_out * OUT_STEP) for x in g_out)
            hours[hour] = (k_in * IN_STEP, k_out * OUT_STEP)
        reserved = quotient(
            price("ptu", "input_hourly") * unit_minutes_in
            + price("ptu", "output_hourly") * unit_minutes_out,
            60,
        )
        peak_in = max(v[0] for v in hours.values())
        peak_out = max(v[1] for v in hours.values())
        out["schedule"] = (peak_in, peak_out, round_cents(reserved + overflow), hours)
    return out


def answers(result: PlanResult) -> dict[str, tuple]:
    """The planner's result in the sweep's shape."""
    out: dict[str, tuple] = {}
    for opt in result.options:
        row: tuple = (opt.input_tpm, opt.output_tpm, opt.total)
        if opt.schedule is not None:
            busy = {h.hour: (h.input_tpm, h.output_tpm) for h in opt.schedule if h.minutes}
            row = (*row, busy)
        out[opt.option] = row
    return out


def timed(fn: Callable[[], T], repeat: int = 1) -> tuple[T, float]:
    """The result and the best CPU time (process time: steadier than wall time on a busy box)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.process_time()
        result = fn()
        best = min(best, time.process_time() - t0)
    assert result is not None
    return result, best


def measure(
    days: int, coverage: Decimal | None, seed: int, scale: float, rounds: int
) -> dict[str, Any]:
    """Best-of-`rounds` CPU seconds of the planner and both sweeps, and their answers."""
    catalog = load_catalog()
    trace = make_trace(days, seed, scale)
    options = ["payg", "hourly", "upfront", "schedule"]

    def planner() -> PlanResult:
        return plan(trace, MODEL, catalog=catalog, coverage=coverage, options=options, growth=None)

    def full() -> PlanResult:
        return plan(trace, MODEL, catalog=catalog, coverage=coverage, options=options)

    plan_s = full_s = slow_s = fast_s = float("inf")
    for _ in range(rounds):
        slow, seconds = timed(lambda: sweep(trace, catalog, coverage, per_minute))
        slow_s = min(slow_s, seconds)
        fast, seconds = timed(lambda: sweep(trace, catalog, coverage, summed))
        fast_s = min(fast_s, seconds)
        result, seconds = timed(planner, repeat=3)
        plan_s = min(plan_s, seconds)
        _, seconds = timed(full)
        full_s = min(full_s, seconds)
    levels = -(-max(trace.input_tokens) // IN_STEP) + -(-max(trace.output_tokens) // OUT_STEP)
    return {
        "trace": trace, "options": options, "answers": answers(result), "slow": slow,
        "fast": fast, "slow_s": slow_s, "fast_s": fast_s, "plan_s": plan_s, "full_s": full_s,
        "levels": levels,
    }  # fmt: skip


def rows(quick: bool = False) -> list[Row]:
    """The suite's row: the planner against the per-minute sweep (goal ≥ 50×, exact)."""
    days = 7 if quick else 30
    m = measure(days, Decimal("0.95"), 11, 1.0, 2 if quick else 3)
    exact = m["answers"] == m["slow"] == m["fast"]
    ratio = m["slow_s"] / m["plan_s"]
    return [
        Row(
            f"planner, all options, {m['trace'].minutes:,} minutes"
            + ("" if exact else " — ANSWERS DIFFER"),
            table_seconds(m["plan_s"]),
            f"{table_seconds(m['slow_s'])} per-level per-minute sweep",
            f"{ratio:.1f}× faster",
            "≥ 50× faster, exact",
            None if quick else (ratio >= 50 and exact),
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--coverage", default="0.95", help="a fraction, or 'none'")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="traffic multiplier (more capacity levels)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    coverage = None if args.coverage == "none" else Decimal(args.coverage)
    m = measure(args.days, coverage, args.seed, args.scale, args.rounds)
    trace, options, slow, fast = m["trace"], m["options"], m["slow"], m["fast"]
    slow_s, fast_s, plan_s, full_s = m["slow_s"], m["fast_s"], m["plan_s"], m["full_s"]
    print(
        f"{trace.minutes:,} minutes of {MODEL}, peak {max(trace.input_tokens):,} input / "
        f"{max(trace.output_tokens):,} output TPM, coverage={coverage}"
    )
    got = m["answers"]
    for label, swept in (("per-minute sweep", slow), ("summed sweep", fast)):
        if got != swept:
            for name in swept:
                if got.get(name) != swept[name]:
                    print(f"MISMATCH with the {label} in {name}: planner {got.get(name)}, "
                          f"sweep {swept[name]}", file=sys.stderr)  # fmt: skip
            return 1
    print("identical answers from the planner and both sweeps (capacities, totals, schedule):")
    for name in options:
        tin, tout, total = slow[name][:3]
        print(f"  {name:<9} {tin:>8,} in / {tout:>7,} out TPM   ${total:>10,}")
    print(f"CPU seconds, best of {args.rounds} rounds ({m['levels']} capacity levels a sweep tries "
          "per option, input + output):")  # fmt: skip
    print(f"  sweep, per-minute simulation      {slow_s:7.3f} s")
    print(f"  sweep, integer sums per level     {fast_s:7.3f} s")
    print(f"  plan, all options                 {plan_s:7.3f} s  {slow_s / plan_s:6.1f}x the "
          f"per-minute sweep, {fast_s / plan_s:5.1f}x the summed one")  # fmt: skip
    print(f"  plan with curve and sensitivity   {full_s:7.3f} s  {slow_s / full_s:6.1f}x, "
          f"{fast_s / full_s:5.1f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
