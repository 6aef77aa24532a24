"""Benchmark: forecasts and alert evaluation for 1,000 deployments with 30 days of history,
against the current cost query (`modeldeck.costs.cost_report`) over the same store, same run.

Both read each deployment's history from the store the same way (the cost query's history
builder) and accrue it; the forecast side then adds the reserved spend to come, the projected
overflow, per-budget aggregation, and the alert rules with their grouped store reads.

Run: `uv run python benchmarks/bench_forecast.py [--deployments N] [--calls-per-day K]
[--postgres-admin-url URL|none] [--database-url URL]`: by default on a SQLite file in a
temporary directory, then on a fresh PostgreSQL database created next to the admin URL
(`MODELDECK_TEST_POSTGRES_URL`, default the suite's 127.0.0.1:5432) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert

from modeldeck.alerts import AlertSettings
from modeldeck.billing.call_columns import CallColumns
from modeldeck.billing.overflow import price_overflow_call
from modeldeck.billing.timeline import order_timeline
from modeldeck.budgets import Budget
from modeldeck.deck import Deck
from modeldeck.settings import Settings
from modeldeck.spend import load_histories, spend_overview
from modeldeck.store import Store
from modeldeck.store.alerts import raise_due
from modeldeck.store.models import AuditRow, DeploymentRow, OrderRow, UsageCallRow, UsageMinuteRow
from modeldeck.timeutil import BEIJING
from modeldeck.workflow import costs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Row
from table import seconds as table_seconds

T = TypeVar("T")
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=BEIJING)
START = datetime(2026, 3, 1, tzinfo=BEIJING)
PTU = [("qwen3-max-2025-09-23", 20_000, 2_000), ("qwen-flash-2025-07-28", 50_000, 5_000)]
MU = ["qwen3-32b", "qwen3-vl-8b-instruct"]
TEAMS = ["search", "ads", "chat", "infra"]
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def populate(store: Store, n: int, calls_per_day: int, seed: int) -> dict[str, dict[str, str]]:
    """n deployments over March: PTU hourly/upfront, MU hourly/monthly; stops; overflow calls."""
    rng = random.Random(seed)
    catalog = Deck(Settings(), store=store).catalog
    deps: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    minutes: dict[tuple[str, datetime], dict[str, Any]] = {}
    tags: dict[str, dict[str, str]] = {}
    for i in range(n):
        dep_id = f"dep_{i:04d}"
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
        deployed = f"{model}-{i:04d}"
        tags[dep_id] = {"team": TEAMS[i % len(TEAMS)]}
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
        if billing in ("upfront", "monthly"):
            days = 7 if billing == "upfront" else 30
            ordered = created
            while ordered < NOW:
                t = order_timeline(ordered, days)
                orders.append(
                    {
                        "id": f"ord_{i:04d}_{len(orders)}",
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
        stop = NOW if status == "RUNNING" else audits[-1]["at"]
        span = int((stop - created).total_seconds())
        for _ in range(calls_per_day * max(1, span // 86_400)):
            at = created + timedelta(seconds=rng.randrange(span))
            tokens_in, tokens_out = rng.randrange(100, 40_000), rng.randrange(10, 2_000)
            over = plan == "ptu" and rng.random() < 0.3
            cost = (
                price_overflow_call(model, "instruct", tokens_in, tokens_out, 0, catalog)
                if over
                else None
            )
            calls.append(
                {
                    "call_id": f"c{len(calls)}",
                    "deployed_model": deployed,
                    "model": model,
                    "mode": "instruct",
                    "at": at,
                    "status_code": 200,
                    "input_tokens": tokens_in,
                    "output_tokens": tokens_out,
                    "reasoning_tokens": 0,
                    "cached_tokens": 0,
                    "overflow": over,
                    "latency_ms": 1.0,
                    "cost": cost,
                }
            )
            minute = at.replace(second=0, microsecond=0)
            row = minutes.setdefault(
                (deployed, minute),
                {
                    "deployed_model": deployed,
                    "minute": minute,
                    "calls": 0,
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "reasoning_tokens": 0,
                    "overflow_calls": 0,
                    "overflow_input_tokens": 0,
                    "overflow_output_tokens": 0,
                    "overflow_cost": Decimal(0),
                    "errors": 0,
                },
            )
            row["calls"] += 1
            row["input_tokens"] += tokens_in
            row["output_tokens"] += tokens_out
            if over:
                row["overflow_calls"] += 1
                row["overflow_input_tokens"] += tokens_in
                row["overflow_output_tokens"] += tokens_out
                row["overflow_cost"] += cost
    with store.session() as s:
        for table, rows in (
            (DeploymentRow, deps),
            (AuditRow, audits),
            (OrderRow, orders),
            (UsageCallRow, calls),
            (UsageMinuteRow, list(minutes.values())),
        ):
            for k in range(0, len(rows), 20_000):
                s.execute(insert(table), rows[k : k + 20_000])
    print(
        f"{n:,} deployments, {len(calls):,} calls ({calls_per_day}/day), {len(orders):,} orders, "
        f"{len(minutes):,} usage minutes, 30 days of March 2026"
    )
    return tags


BUDGETS = [
    Budget(name="workspace", amount_usd=Decimal(2_000_000)),
    *(Budget(name=t, scope=f"tag:team={t}", amount_usd=Decimal(400_000)) for t in TEAMS),
    Budget(name="one", scope="deployment:dep_0001", amount_usd=Decimal(500)),
]


def spend_control(deck: Deck, tags: dict[str, dict[str, str]], settings: AlertSettings) -> Any:
    """Forecast every deployment over the month, aggregate budgets, evaluate the alert rules."""
    with deck.store.session() as session:
        return spend_overview(
            session,
            deck.catalog,
            now=NOW,
            budgets=BUDGETS,
            settings=settings,
            rules=deck.rules,
            tags=tags,
        )


def same_histories(deck: Deck) -> bool:
    """The loader's columns mode (forecasts) holds exactly the full mode's billable calls."""
    with deck.store.session() as session:
        full = {s.row.id: s.history for s in load_histories(session)}
        fast = {s.row.id: s for s in load_histories(session, columns=deck.catalog)}
    for dep_id, h in full.items():
        info = deck.catalog.model_info(deck.catalog.resolve_model(h.model))
        if fast[dep_id].calls != CallColumns.from_calls(h.calls, info.max_input):
            return False
    return True


def timed(fn: Callable[[], T], rounds: int) -> tuple[T, float, float]:
    """(result, best wall seconds, best CPU seconds) over `rounds` runs."""
    best_wall = best_cpu = float("inf")
    result: Any = None
    for _ in range(rounds):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return result, best_wall, best_cpu


def measure(
    deployments: int, calls_per_day: int, rounds: int, seed: int, url: str | None
) -> dict[str, Any]:
    """The cost query and forecast + alerts, best of `rounds`, and the consistency checks."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        tags = populate(store, deployments, calls_per_day, seed)
        deck = Deck(Settings(), store=store)
        settings = AlertSettings()
        report, base_wall, base_cpu = timed(
            lambda: costs.cost_report(deck, None, "2026-03", NOW), rounds
        )
        overview, wall, cpu = timed(lambda: spend_control(deck, tags, settings), rounds)
        alerts = overview.alerts
        with store.session() as s:
            t0 = time.perf_counter()
            raised = raise_due(s, alerts)
            claim = time.perf_counter() - t0
        with store.session() as s:
            again = raise_due(s, alerts)
        to_date = sum((f.to_date for f in overview.forecasts), Decimal(0))
        found = {
            "dialect": store.dialect, "report": report, "overview": overview,
            "base_wall": base_wall, "base_cpu": base_cpu, "wall": wall, "cpu": cpu,
            "raised": raised, "claim": claim, "again": again,
            "same": to_date == report.total, "histories": same_histories(deck),
        }  # fmt: skip
        store.dispose()
    return found


def _row(m: dict[str, Any], n: int, quick: bool) -> Row:
    ok = m["same"] and m["histories"] and not m["again"]
    store = "SQLite" if m["dialect"] == "sqlite" else "PostgreSQL"
    return Row(
        f"forecast + alerts, {n:,} deps, {store} (wall)" + ("" if ok else " — INCONSISTENT"),
        table_seconds(m["wall"]),
        f"{table_seconds(m['base_wall'])} cost query, same store",
        f"{m['wall'] / m['base_wall']:.2f}×",
        "≤ 1 s",
        None if quick else (m["wall"] <= 1 and ok),
    )


def rows(quick: bool = False) -> list[Row]:
    """The suite's rows: forecast + alerts for 1,000 deployments (goal ≤ 1 s), SQLite and then
    PostgreSQL (a fresh database, when the suite's PostgreSQL answers)."""
    n = 100 if quick else 1_000
    rounds = 2 if quick else 3
    out = [_row(measure(n, 10, rounds, 12, None), n, quick)]
    admin = os.environ.get("MODELDECK_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    try:
        with contextmanager(fresh_postgres)(admin) as url:
            out.append(_row(measure(n, 10, rounds, 12, url), n, quick))
    except Exception as exc:  # no PostgreSQL here: say so in the table, never a silent skip
        out.append(Row(f"forecast + alerts, {n:,} deps, PostgreSQL", "not measured",
                       f"{type(exc).__name__}", "—", "≤ 1 s", False))  # fmt: skip
    return out


def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database next to `admin_url`'s (dropped afterwards)."""
    import psycopg

    name = f"modeldeck_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(m: dict[str, Any], rounds: int) -> bool:
    """Print one store's figures; True when the answers are consistent."""
    overview, cost = m["overview"], m["report"]
    per_dep, budgets, alerts = overview.forecasts, overview.budgets, overview.alerts
    base_wall, base_cpu, wall, cpu = m["base_wall"], m["base_cpu"], m["wall"], m["cpu"]
    raised, claim, again, same, histories = (
        m["raised"], m["claim"], m["again"], m["same"], m["histories"]
    )  # fmt: skip
    kinds: dict[str, int] = defaultdict(int)
    for a in alerts:
        kinds[a.kind.split(":")[0]] += 1
    print(
        f"store: {m['dialect']}; spend to date identical to the cost query: {same}; "
        f"histories identical: {histories}"
    )
    print(
        f"forecast total ${sum((f.total for f in per_dep), Decimal(0)):,.2f}; "
        f"{len(budgets)} budgets; {len(alerts)} alerts ({dict(sorted(kinds.items()))})"
    )
    assert cost.total is not None
    print(f"best of {rounds} rounds        wall        CPU")
    print(f"  cost query (baseline)  {base_wall:7.3f} s  {base_cpu:7.3f} s")
    print(
        f"  forecast + alerts      {wall:7.3f} s  {cpu:7.3f} s   "
        f"{wall / base_wall:.2f}x the cost query (wall), {cpu / base_cpu:.2f}x (CPU)"
    )
    print(f"  raise_due ({len(raised)} new)    {claim:7.3f} s   (second run raised {len(again)})")
    return bool(same and histories and not again)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=1_000)
    parser.add_argument("--calls-per-day", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--database-url", default=None, help="only this EMPTY database")
    parser.add_argument(
        "--postgres-admin-url",
        default=os.environ.get("MODELDECK_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="PostgreSQL to create a fresh database in (after SQLite); 'none' to skip",
    )
    args = parser.parse_args(argv)

    def run(url: str | None) -> bool:
        found = measure(args.deployments, args.calls_per_day, args.rounds, args.seed, url)
        return report(found, args.rounds)

    if args.database_url:
        return 0 if run(args.database_url) else 1
    ok = run(None)
    if args.postgres_admin_url != "none":
        print()
        with contextmanager(fresh_postgres)(args.postgres_admin_url) as url:
            ok = run(url) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
