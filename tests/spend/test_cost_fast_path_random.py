"""`cost all` (histories without calls, overflow summed in SQL per tier, rows instead of records,
each capacity priced once) equals the reference accrual of every stored call, deployment by
deployment, on random stores: plans, billing methods, scales, stops, prepaid orders, calls of
every tier (flagged, longer than the max input, reasoning, failed, outside the period), and a
Model Code reused after an unpublish."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from modeldeck.billing.accrual import accrue
from modeldeck.billing.timeline import order_timeline
from modeldeck.deck import Deck
from modeldeck.settings import Settings
from modeldeck.spend import load_histories
from modeldeck.store import Store
from modeldeck.store.models import AuditRow, DeploymentRow, OrderRow, RequestRow, UsageCallRow
from modeldeck.timeutil import BEIJING
from modeldeck.workflow import costs

NOW = datetime(2026, 3, 20, 15, 7, 11, tzinfo=BEIJING)
START = datetime(2026, 2, 20, tzinfo=BEIJING)
PTU = [
    ("qwen3-max-2025-09-23", 20_000, 2_000),
    ("qwen-flash-2025-07-28", 50_000, 5_000),
    ("qwen-plus-2025-12-01", 10_000, 1_000),
]
MU = ["qwen3-32b", "qwen3-vl-8b-instruct"]
PERIODS = ["month", "today", "30d", "all", "last-month", "2026-03-05", "7d"]


def random_store(store: Store, seed: int, n: int = 24, calls: int = 3_000) -> None:
    """A store of `n` random deployments and `calls` random metered calls."""
    rng = random.Random(seed)
    deps: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    reqs: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    codes: list[tuple[str, str]] = []
    for i in range(n):
        created = START + timedelta(seconds=rng.randrange(0, 20 * 86_400))
        kind = rng.choice(["ptu-hourly", "ptu-upfront", "mu-hourly", "mu-monthly"])
        plan, billing = kind.split("-")
        model, in_tpm, out_tpm = rng.choice(PTU) if plan == "ptu" else (rng.choice(MU), None, None)
        code = f"code-{i:03d}" if i != 1 else "code-000"  # dep 1 reuses dep 0's code
        dep_id = f"dep_{i:03d}"
        deleted = None
        if i == 0:
            deleted = created + timedelta(days=1)
            created_1 = deleted + timedelta(hours=2)
        if i == 1:
            created = created_1
        deps.append(
            {
                "id": dep_id,
                "deployed_model": code,
                "model": model,
                "plan": plan,
                "mode": "instruct",
                "billing": billing,
                "status": "RUNNING",
                "units": rng.randrange(1, 4) if plan == "mu" else None,
                "input_tpm": in_tpm,
                "output_tpm": out_tpm,
                "imported": False,
                "provider_data": {},
                "created_at": created,
                "updated_at": created,
                "deleted_at": deleted,
            }
        )
        codes.append((code, model))
        if deleted is not None:
            reqs.append(_request(f"req_u{i}", "unpublish", dep_id, deleted, {}))
        if plan == "ptu" and billing == "hourly" and rng.random() < 0.5:
            at = created + timedelta(seconds=rng.randrange(3_600, 5 * 86_400))
            scale = {"input_tpm": in_tpm * rng.randrange(2, 4)}  # type: ignore[operator]
            reqs.append(_request(f"req_s{i}", "scale", dep_id, at, {"scale": scale}))
        for k in range(rng.randrange(0, 3)):
            at = created + timedelta(seconds=rng.randrange(60, 15 * 86_400))
            old, new = ("RUNNING", "STOPPED") if k % 2 == 0 else ("STOPPED", "RUNNING")
            audits.append(
                {
                    "at": at,
                    "actor": "reconciler",
                    "surface": "server",
                    "action": "status",
                    "subject": dep_id,
                    "detail": {"old": old, "new": new},
                }
            )
        if billing in ("upfront", "monthly"):
            days = rng.choice([1, 7]) if billing == "upfront" else 30
            ordered = created
            while ordered < NOW:
                t = order_timeline(ordered, days)
                orders.append(
                    {
                        "id": f"ord_{i}_{len(orders)}",
                        "deployment_id": dep_id,
                        "kind": "ptu_daily" if billing == "upfront" else "mu_monthly",
                        "quantity": days if billing == "upfront" else 1,
                        "amount": Decimal(rng.randrange(100, 90_000)) / 100,
                        "currency": "USD",
                        "status": "active",
                        "ordered_at": ordered,
                        "expires_at": t.expires_at,
                        "stops_at": t.stops_at,
                        "released_at": t.released_at,
                    }
                )
                ordered = t.expires_at + timedelta(seconds=1)
    rows = []
    span = int((NOW + timedelta(days=2) - START).total_seconds())
    for k in range(calls):
        code, model = rng.choice(codes)
        roll = rng.random()
        tokens_in = (
            rng.randrange(128_001, 250_000)
            if roll < 0.08
            else rng.randrange(30_000, 34_000)
            if roll < 0.3
            else rng.randrange(1, 30_000)
        )
        reasoning = rng.randrange(1, 400) if rng.random() < 0.15 else 0
        rows.append(
            {
                "call_id": f"c{k}",
                "deployed_model": code,
                "model": model,
                "mode": "instruct",
                "at": START
                + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6)),
                "status_code": rng.choice([200] * 20 + [429, 500]),
                "input_tokens": tokens_in,
                "output_tokens": reasoning + rng.randrange(1, 3_000),
                "reasoning_tokens": reasoning,
                "cached_tokens": 0,
                "overflow": rng.random() < 0.2,
                "latency_ms": 1.0,
            }
        )
    rows.append({**rows[0], "call_id": "stray", "deployed_model": "nobody", "overflow": True})
    with store.session() as s:
        for table, values in (
            (DeploymentRow, deps),
            (AuditRow, audits),
            (RequestRow, reqs),
            (OrderRow, orders),
            (UsageCallRow, rows),
        ):
            if values:
                s.execute(insert(table), values)


def _request(
    req_id: str, kind: str, dep_id: str, at: datetime, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": req_id,
        "kind": kind,
        "status": "executed",
        "requester": "alice",
        "surface": "cli",
        "payload": payload,
        "deployment_id": dep_id,
        "policy": {},
        "refs": {},
        "created_at": at,
        "executed_at": at,
    }


def reference(deck: Deck, store: Store, period: str) -> dict[str, tuple[Decimal, list[Any]]]:
    """Every stored call in each history, accrued call by call over the period."""
    start, end = costs.resolve_period(period, NOW)
    with store.session() as s:
        full = load_histories(s)
    out = {}
    for x in full:
        acc = accrue(x.history, start, end, deck.catalog, deck.rules)
        out[x.row.id] = (
            acc.total,
            [(line.kind, line.amount, line.price_known) for line in acc.lines],
        )
    return out


def check(store: Store, seed: int) -> None:
    random_store(store, seed)
    deck = Deck(Settings(), store=store)
    for period in PERIODS:
        expected = reference(deck, store, period)
        report = costs.cost_report(deck, None, period, NOW)
        got = {
            d.id: (d.total, [(line.kind, line.amount, line.price_known) for line in d.lines])
            for d in report.deployments
        }
        assert got.keys() == expected.keys(), period
        for dep_id, (total, lines) in expected.items():
            assert got[dep_id][0] == total, (seed, period, dep_id)
            # the summed path has one overflow line where the reference has the same amount
            assert sorted(map(str, got[dep_id][1])) == sorted(map(str, lines)), (seed, period)
        assert report.total == sum(t for t, _ in expected.values())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_cost_equals_the_reference_accrual_on_random_sqlite_stores(
    tmp_path: Path, seed: int
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    check(store, seed)
    store.dispose()


@pytest.mark.postgres
def test_fast_cost_equals_the_reference_accrual_on_a_random_postgres_store(
    postgres_url: str,
) -> None:
    store = Store(postgres_url)
    check(store, 4)
    store.dispose()
