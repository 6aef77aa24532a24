"""Benchmark: `cost all period=month` and the forecasts at 10 / 100 / 1,000 / 3,000 deployments
(1,000,000 metered calls at 1,000), against the same sums as one SQL GROUP BY, same run.

Each size gets a fresh store: PTU hourly and upfront, MU hourly and monthly deployments created
in early March 2026, some stopped, some scaled; calls spread over March (and a tenth in February,
outside the period), 5% flagged overflow, 1% longer than the max input, reasoning on some
qwen-flash calls, 2% failed. Timed, best of `--rounds`:

- **cost**: `workflow.costs.cost_report(deck, None, "month")` (what `cost all period=month`
  and `DeckAPI.cost` run);
- **forecasts**: `spend.spend_overview` (forecast per deployment, budgets, alert rules);
- **GROUP BY**: `SELECT deployed_model, count(*), sum(input), sum(output) ... WHERE at in the
  month GROUP BY deployed_model`, the floor for anything that reads the month's calls.

Up to `--exact-up-to` calls, the cost is also compared, deployment by deployment, with accruing
every stored call (the old path, timed as "old"); the script exits 1 if any total differs.

Run: `uv run python benchmarks/bench_cost_scale.py [--sizes 10,100,1000,3000]
[--postgres URL-of-an-admin-database]` (default: SQLite files in a temporary directory).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, insert, select

from modeldeck.billing.accrual import accrue
from modeldeck.billing.timeline import order_timeline
from modeldeck.budgets import Budget
from modeldeck.deck import Deck
from modeldeck.settings import Settings
from modeldeck.spend import load_histories, spend_overview
from modeldeck.store import Store
from modeldeck.store.models import AuditRow, DeploymentRow, OrderRow, RequestRow, UsageCallRow
from modeldeck.timeutil import BEIJING
from modeldeck.workflow import costs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Row
from table import seconds as table_seconds

T = TypeVar("T")
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=BEIJING)
START = datetime(2026, 3, 1, tzinfo=BEIJING)
FEB = datetime(2026, 2, 1, tzinfo=BEIJING)
PTU = [("qwen3-max-2025-09-23", 20_000, 2_000), ("qwen-flash-2025-07-28", 50_000, 5_000)]
MU = ["qwen3-32b", "qwen3-vl-8b-instruct"]
BUDGETS = [
    Budget(name="workspace", amount_usd=Decimal(2_000_000)),
    Budget(name="one", scope="deployment:dep_00001", amount_usd=Decimal(500)),
]


def populate(store: Store, n: int, calls: int, seed: int) -> None:
    rng = random.Random(seed)
    deps: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    audits, reqs = [], []
    models = []
    for i in range(n):
        dep_id = f"dep_{i:05d}"
        created = START + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        kind = i % 10
        plan, billing = (
            ("ptu", "hourly")
            if kind < 6
            else ("ptu", "upfront")
            if kind < 8
            else (("mu", "hourly") if kind == 8 else ("mu", "monthly"))
        )
        model, in_tpm, out_tpm = PTU[i % 2] if plan == "ptu" else (MU[i % 2], None, None)
        status = "STOPPED" if i % 17 == 0 else "RUNNING"
        deployed = f"{model}-{i:05d}"
        models.append((deployed, model, plan))
        deps.append(
            {
                "id": dep_id,
                "deployed_model": deployed,
                "model": model,
                "plan": plan,
                "mode": "instruct",
                "billing": billing,
                "status": status,
                "units": 1 if plan == "mu" else None,
                "input_tpm": in_tpm,
                "output_tpm": out_tpm,
                "imported": False,
                "provider_data": {},
                "created_at": created,
                "updated_at": created,
            }
        )
        if status == "STOPPED":
            audits.append(
                {
                    "at": NOW - timedelta(hours=rng.randrange(1, 400)),
                    "actor": "reconciler",
                    "surface": "server",
                    "action": "status",
                    "subject": dep_id,
                    "detail": {"old": "RUNNING", "new": "STOPPED"},
                }
            )
        if plan == "ptu" and billing == "hourly" and i % 5 == 0:
            reqs.append(
                {
                    "id": f"req_{i:05d}",
                    "kind": "scale",
                    "status": "executed",
                    "requester": "alice",
                    "surface": "cli",
                    "payload": {"scale": {"input_tpm": 2 * in_tpm}},  # type: ignore[operator]
                    "deployment_id": dep_id,
                    "policy": {},
                    "refs": {},
                    "created_at": created + timedelta(days=5),
                    "executed_at": created + timedelta(days=5),
                }
            )
        if billing in ("upfront", "monthly"):
            days = 7 if billing == "upfront" else 30
            ordered = created
            while ordered < NOW:
                t = order_timeline(ordered, days)
                orders.append(
                    {
                        "id": f"ord_{i:05d}_{len(orders)}",
                        "deployment_id": dep_id,
                        "kind": "ptu_daily" if billing == "upfront" else "mu_monthly",
                        "quantity": days if billing == "upfront" else 1,
                        "amount": Decimal("262.08") if billing == "upfront" else Decimal(18_800),
                        "currency": "USD",
                        "status": "active",
                        "ordered_at": ordered,
                        "expires_at": t.expires_at,
                        "stops_at": t.stops_at,
                        "released_at": t.released_at,
                    }
                )
                ordered = t.expires_at + timedelta(seconds=1)
    with store.session() as s:
        for table, rows in (
            (DeploymentRow, deps),
            (AuditRow, audits),
            (OrderRow, orders),
            (RequestRow, reqs),
        ):
            if rows:
                s.execute(insert(table), rows)
    march = int((NOW - START).total_seconds())
    feb = int((START - FEB).total_seconds())
    batch: list[dict[str, Any]] = []
    with store.session() as s:
        for k in range(calls):
            deployed, model, plan = models[rng.randrange(n)]
            before = rng.random() < 0.1
            at = (
                (FEB + timedelta(seconds=rng.randrange(feb)))
                if before
                else (START + timedelta(seconds=rng.randrange(march)))
            )
            roll = rng.random()
            tokens_in = (
                rng.randrange(130_000, 200_000) if roll < 0.01 else rng.randrange(100, 40_000)
            )
            reasoning = rng.randrange(1, 500) if "flash" in model and rng.random() < 0.1 else 0
            batch.append(
                {
                    "call_id": f"c{k}",
                    "deployed_model": deployed,
                    "model": model,
                    "mode": "instruct",
                    "at": at,
                    "status_code": 429 if rng.random() < 0.02 else 200,
                    "input_tokens": tokens_in,
                    "output_tokens": reasoning + rng.randrange(10, 2_000),
                    "reasoning_tokens": reasoning,
                    "cached_tokens": 0,
                    "overflow": plan == "ptu" and rng.random() < 0.05,
                    "latency_ms": 1.0,
                }
            )
            if len(batch) == 50_000:
                s.execute(insert(UsageCallRow), batch)
                batch = []
        if batch:
            s.execute(insert(UsageCallRow), batch)


def group_by(store: Store) -> list[Any]:
    """The month's calls summed per deployed model in one SQL statement: the floor."""
    start, end = costs.resolve_period("month", NOW)
    with store.session() as s:
        return list(
            s.execute(
                select(
                    UsageCallRow.deployed_model,
                    func.count(),
                    func.sum(UsageCallRow.input_tokens),
                    func.sum(UsageCallRow.output_tokens),
                )
                .where(
                    UsageCallRow.at >= start, UsageCallRow.at < end, UsageCallRow.status_code < 400
                )
                .group_by(UsageCallRow.deployed_model)
            )
        )


def old_path(deck: Deck) -> dict[str, Decimal]:
    """Every stored call in each history, accrued over the month (what `cost` did before)."""
    start, end = costs.resolve_period("month", NOW)
    with deck.store.session() as s:
        full = load_histories(s)
    return {x.row.id: accrue(x.history, start, end, deck.catalog, deck.rules).total for x in full}


def forecasts(deck: Deck) -> Any:
    with deck.store.session() as s:
        return spend_overview(s, deck.catalog, now=NOW, budgets=BUDGETS, rules=deck.rules)


def timed(fn: Callable[[], T], rounds: int) -> tuple[T, float]:
    best, result = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return result, best  # type: ignore[return-value]


@contextmanager
def fresh_store(tmp: str, postgres: str | None, n: int) -> Iterator[Store]:
    if postgres is None:
        store = Store(f"sqlite:///{Path(tmp) / f'cost{n}.db'}")
        try:
            yield store
        finally:
            store.dispose()
        return
    import psycopg

    admin = postgres.replace("postgresql+psycopg://", "postgresql://")
    name = f"modeldeck_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    store = Store(f"{postgres.rsplit('/', 1)[0]}/{name}")
    try:
        yield store
    finally:
        store.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(store: Store, calls: int, rounds: int, exact_up_to: int) -> tuple[Any, ...]:
    """Timings of one filled store: cost, forecasts, GROUP BY, and the old path up to a size."""
    deck = Deck(Settings(), store=store)
    report, cost_s = timed(lambda: costs.cost_report(deck, None, "month", NOW), rounds)
    overview, fc_s = timed(lambda: forecasts(deck), rounds)
    _, gb_s = timed(lambda: group_by(store), rounds)
    old_s = float("nan")
    exact = "-"
    if calls <= exact_up_to:
        expected, old_s = timed(lambda: old_path(deck), 1)
        exact = "yes" if {d.id: d.total for d in report.deployments} == expected else "NO"
    return cost_s, fc_s, gb_s, old_s, exact, report, overview


Size = tuple[int, int, float, float, float, float, str, Decimal]


def measure_sizes(
    sizes: list[int],
    calls_per_deployment: int,
    max_calls: int,
    rounds: int,
    exact_up_to: int,
    seed: int,
    postgres: str | None,
    say: Callable[[str], None] = print,
) -> list[Size]:
    """Per size: (deployments, calls, cost s, forecasts s, GROUP BY s, old s, exact, total)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            calls = min(n * calls_per_deployment, max_calls)
            with fresh_store(tmp, postgres, n) as store:
                t0 = time.perf_counter()
                populate(store, n, calls, seed)
                if store.dialect == "postgresql":  # what autovacuum does after a bulk load
                    with store.engine.connect() as conn:
                        conn.exec_driver_sql("ANALYZE")
                filled = time.perf_counter() - t0
                cost_s, fc_s, gb_s, old_s, exact, report, overview = measure(
                    store, calls, rounds, exact_up_to
                )
                assert len(overview.forecasts) == n
                out.append((n, calls, cost_s, fc_s, gb_s, old_s, exact, report.total))
                say(
                    f"{store.dialect}: {n:,} deployments, {calls:,} calls "
                    f"filled in {filled:.1f} s; month total ${report.total:,.2f}"
                )
    return out


def postgres_admin_url() -> str | None:
    """The PostgreSQL server to create benchmark databases on, if one answers."""
    url = os.environ.get(
        "MODELDECK_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    try:
        import psycopg

        with psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3
        ):
            return url
    except Exception:
        return None


def rows(quick: bool = False) -> list[Row]:
    """The suite's rows: cost and forecasts at the largest size on SQLite and PostgreSQL
    (goal ≤ 1 s at 1,000 deployments / 1,000,000 calls) and the growth per deployment."""
    sizes = [10, 100] if quick else [10, 100, 1000, 3000]
    per_dep = 100 if quick else 1_000
    out: list[Row] = []
    for name, url in (("SQLite", None), ("PostgreSQL", postgres_admin_url())):
        if name == "PostgreSQL" and url is None:
            out.append(Row("cost all month on PostgreSQL", "not run", "no server", "—", "—", None))
            continue
        found = measure_sizes(
            sizes, per_dep, 1_000_000, 2 if quick else 3, 0, 15, url, lambda _: None
        )
        goal_size = next((s for s in found if s[0] == 1000), None)
        big = goal_size or found[-1]
        n, calls, cost_s, fc_s, gb_s = big[:5]
        judged = goal_size is not None
        for label, value in (
            ("cost all period=month", cost_s),
            ("forecasts (spend overview)", fc_s),
        ):
            out.append(
                Row(
                    f"{label}, {n:,} deps / {calls:,} calls, {name}",
                    table_seconds(value),
                    f"{table_seconds(gb_s)} one SQL GROUP BY",
                    f"{value / gb_s:.2f}×",
                    "≤ 1 s",
                    value <= 1 if judged else None,
                )
            )
        small = found[0] if quick else next(s for s in found if s[0] == 100)
        last = found[-1]
        growth = (last[2] / last[0]) / (small[2] / small[0])
        out.append(
            Row(
                f"cost growth per deployment, {small[0]:,} → {last[0]:,} deps, {name}",
                f"{1000 * last[2] / last[0]:.3f} ms/dep",
                f"{1000 * small[2] / small[0]:.3f} ms/dep at {small[0]:,}",
                f"{growth:.2f}×",
                "≤ 1.25× (linear)",
                growth <= 1.25 if not quick else None,
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,3000")
    parser.add_argument("--calls-per-deployment", type=int, default=1_000)
    parser.add_argument("--max-calls", type=int, default=1_000_000)
    parser.add_argument("--exact-up-to", type=int, default=100_000, help="calls")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--postgres", default=None, help="URL of a database to create others")
    args = parser.parse_args(argv)
    found = measure_sizes(
        [int(x) for x in args.sizes.split(",")],
        args.calls_per_deployment,
        args.max_calls,
        args.rounds,
        args.exact_up_to,
        args.seed,
        args.postgres,
        lambda line: print(line, flush=True),
    )
    ok = all(s[6] != "NO" for s in found)
    print()
    print(
        f"{'deployments':>11} {'calls':>10} {'cost s':>8} {'fcast s':>8} {'GROUP BY':>9} "
        f"{'cost/GB':>8} {'fcast/GB':>9} {'cost ms/dep':>11} {'old s':>7} {'exact':>5}"
    )
    for n, calls, cost_s, fc_s, gb_s, old_s, exact, _ in found:
        print(
            f"{n:>11,} {calls:>10,} {cost_s:>8.3f} {fc_s:>8.3f} {gb_s:>9.4f} "
            f"{cost_s / gb_s:>7.1f}x {fc_s / gb_s:>8.1f}x {1000 * cost_s / n:>11.3f} "
            f"{old_s:>7.2f} {exact:>5}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
