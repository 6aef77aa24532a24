"""From the store: the grouped history loader's two modes agree, forecasts agree with the cost
query to the cent, and the alert evaluation raises each alert once (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from modeldeck.billing.accrual import accrue
from modeldeck.billing.call_columns import CallColumns
from modeldeck.billing.timeline import order_timeline
from modeldeck.budgets import Budget
from modeldeck.deck import Deck
from modeldeck.settings import Settings
from modeldeck.spend import evaluate_and_raise, load_histories, spend_overview
from modeldeck.store import Store
from modeldeck.store.models import (
    AuditRow,
    DeploymentRow,
    OrderRow,
    RequestRow,
    UsageCallRow,
    UsageMinuteRow,
)
from modeldeck.timeutil import BEIJING
from modeldeck.workflow import costs

NOW = datetime(2026, 3, 11, 12, tzinfo=BEIJING)
T0 = datetime(2026, 3, 1, 9, 30, 15, tzinfo=BEIJING)


def _dep(dep_id: str, **kw: Any) -> dict[str, Any]:
    base = {
        "id": dep_id,
        "deployed_model": f"m-{dep_id}",
        "model": "qwen3-max-2025-09-23",
        "plan": "ptu",
        "mode": "instruct",
        "billing": "hourly",
        "status": "RUNNING",
        "input_tpm": 20_000,
        "output_tpm": 2_000,
        "imported": False,
        "provider_data": {},
        "created_at": T0,
        "updated_at": T0,
    }
    return {**base, **kw}


def _call(n: int, dep: str, at: datetime, tokens_in: int, overflow: bool) -> dict[str, Any]:
    return {
        "call_id": f"c{n}",
        "deployed_model": f"m-{dep}",
        "at": at,
        "status_code": 200,
        "input_tokens": tokens_in,
        "output_tokens": 500,
        "reasoning_tokens": 0,
        "cached_tokens": 0,
        "overflow": overflow,
        "latency_ms": 1.0,
    }


def populate(store: Store) -> None:
    t = order_timeline(T0, 7)
    with store.session() as s:
        s.execute(
            insert(DeploymentRow),
            [
                _dep("dep_a", request_id="req_a"),  # scaled on day 3, overflow calls
                _dep("dep_b", status="STOPPED"),  # stopped on day 5
                _dep("dep_c", billing="upfront", status="STOPPED"),  # 7-day order, expired
                _dep(
                    "dep_d", plan="mu", model="qwen3-32b", input_tpm=None, output_tpm=None, units=2
                ),
            ],
        )
        s.execute(
            insert(RequestRow),
            [
                {
                    "id": "req_a",
                    "kind": "deploy",
                    "status": "executed",
                    "requester": "alice",
                    "surface": "cli",
                    "payload": {"deploy": {"input_tpm": 20_000, "output_tpm": 2_000}},
                    "deployment_id": "dep_a",
                    "policy": {},
                    "refs": {},
                    "created_at": T0,
                    "executed_at": T0,
                },
                {
                    "id": "req_s",
                    "kind": "scale",
                    "status": "executed",
                    "requester": "alice",
                    "surface": "cli",
                    "payload": {"scale": {"input_tpm": 40_000}},
                    "deployment_id": "dep_a",
                    "policy": {},
                    "refs": {},
                    "created_at": T0 + timedelta(days=2),
                    "executed_at": T0 + timedelta(days=2),
                },
            ],
        )
        s.execute(
            insert(AuditRow),
            [
                {
                    "at": T0 + timedelta(days=4, seconds=7),
                    "actor": "reconciler",
                    "surface": "server",
                    "action": "status",
                    "subject": "dep_b",
                    "detail": {"old": "RUNNING", "new": "STOPPED"},
                },
                {
                    "at": t.stops_at,
                    "actor": "reconciler",
                    "surface": "server",
                    "action": "status",
                    "subject": "dep_c",
                    "detail": {"old": "RUNNING", "new": "STOPPED"},
                },
            ],
        )
        s.execute(
            insert(OrderRow),
            [
                {
                    "id": "ord_c",
                    "deployment_id": "dep_c",
                    "kind": "ptu_daily",
                    "quantity": 7,
                    "amount": Decimal("262.08"),
                    "currency": "USD",
                    "status": "active",
                    "ordered_at": T0,
                    "expires_at": t.expires_at,
                    "stops_at": t.stops_at,
                    "released_at": t.released_at,
                }
            ],
        )
        calls = []
        for n in range(200):
            at = NOW - timedelta(hours=n * 1.3, seconds=n)
            calls.append(_call(n, "dep_a", at, 1_000 + n * 700, overflow=n % 3 == 0))
        calls.append(
            _call(999, "dep_a", NOW - timedelta(hours=2), 130_000, overflow=False)
        )  # > max input
        calls.append(_call(998, "dep_d", NOW - timedelta(minutes=30), 1_000, overflow=False))
        s.execute(insert(UsageCallRow), calls)
        s.execute(
            insert(UsageMinuteRow),
            [
                {
                    "deployed_model": "m-dep_a",
                    "minute": NOW - timedelta(minutes=10),
                    "calls": 10,
                    "input_tokens": 100_000,
                    "output_tokens": 5_000,
                    "reasoning_tokens": 0,
                    "overflow_calls": 5,
                    "overflow_input_tokens": 60_000,
                    "overflow_output_tokens": 2_500,
                    "overflow_cost": Decimal("12.5"),
                    "errors": 0,
                },
                {
                    "deployed_model": "m-dep_d",
                    "minute": NOW - timedelta(minutes=30),
                    "calls": 1,
                    "input_tokens": 1_000,
                    "output_tokens": 500,
                    "reasoning_tokens": 0,
                    "overflow_calls": 0,
                    "overflow_input_tokens": 0,
                    "overflow_output_tokens": 0,
                    "overflow_cost": Decimal(0),
                    "errors": 0,
                },
            ],
        )


def check(store: Store) -> None:
    populate(store)
    deck = Deck(Settings(), store=store)
    with store.session() as s:
        plain = {x.row.id: x for x in load_histories(s)}
        fast = {x.row.id: x for x in load_histories(s, columns=deck.catalog)}
        for dep in deck.list_deployments(include_deleted=True):
            h = plain[dep.id].history
            # the forecasts' columns mode: the same history without calls, beside exactly the
            # billable calls of the full history as columns
            assert fast[dep.id].history == h.model_copy(update={"calls": []})
            info = deck.catalog.model_info(deck.catalog.resolve_model(dep.model))
            assert fast[dep.id].calls == CallColumns.from_calls(h.calls, info.max_input)
        assert len(plain["dep_a"].history.calls) == 201
        assert [e.kind for e in plain["dep_a"].history.events] == ["created", "scaled"]
        assert [e.kind for e in plain["dep_b"].history.events] == ["created", "stopped"]
        assert len(plain["dep_c"].history.orders) == 1
        # n % 3 == 0: 67 flagged; n >= 182 is longer than 128,000 tokens: 12 more unflagged; c999.
        dep_a_calls = fast["dep_a"].calls
        assert dep_a_calls is not None and len(dep_a_calls.ts) == 67 + 12 + 1
    budgets = [
        Budget(name="all", amount_usd=Decimal(1500)),
        Budget(name="a", scope="deployment:dep_a", amount_usd=Decimal(100), thresholds=[50]),
    ]
    with store.session() as s:
        overview = spend_overview(s, deck.catalog, now=NOW, budgets=budgets, rules=deck.rules)
    report = costs.cost_report(deck, None, "2026-03", NOW)
    assert sum(f.to_date for f in overview.forecasts) == report.total
    for f in overview.forecasts:
        h = plain[f.deployment_id].history
        assert f.to_date == accrue(h, overview.period_start, NOW, deck.catalog).total
    by_id = {f.deployment_id: f for f in overview.forecasts}
    assert by_id["dep_a"].overflow_to_come > 0 and by_id["dep_a"].reserved_to_come > 0
    assert (by_id["dep_b"].state, by_id["dep_b"].to_come) == ("stopped", 0)
    # "all": $21,164.69 of $1,500 (100% crossed, overrun); "a": $1,203.04 of $100 (its only
    # threshold, 50%, crossed; overrun); dep_a's last minute: 60% overflow share, $12.50 > $10.
    assert by_id["dep_d"].to_date == 2 * 40 * Decimal("242.5")  # MU hourly, 2 units, 242.5 h
    kinds = sorted(a.kind for a in overview.alerts)
    assert kinds == [
        "budget_threshold:100",
        "budget_threshold:50",
        "forecast_overrun",
        "forecast_overrun",
        "overflow_share",
        "overflow_spend",
    ]
    with store.session() as s:
        _, first = evaluate_and_raise(s, deck.catalog, now=NOW, budgets=budgets, raised_by="cli")
    with store.session() as s:
        _, second = evaluate_and_raise(
            s, deck.catalog, now=NOW + timedelta(minutes=5), budgets=budgets
        )
    assert [a.kind for a in first] == [a.kind for a in overview.alerts] and second == []


def test_overview_on_sqlite(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    check(store)
    store.dispose()


@pytest.mark.postgres
def test_overview_on_postgres(postgres_url: str) -> None:
    store = Store(postgres_url)
    check(store)
    store.dispose()
