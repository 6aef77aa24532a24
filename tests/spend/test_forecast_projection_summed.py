"""The forecasts' overflow projection from the projection window's calls summed in SQL equals
pricing each of those calls (the previous path), deployment by deployment, on random stores:
to date, the overflow seen in the window, the overflow to come, the assumptions and the budgets,
at instants where some deployments were created inside the window (their window starts at
creation), for several budget periods, and for a Model Code reused after an unpublish."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from modeldeck.alerts import AlertSettings
from modeldeck.billing.forecast import forecast, forecast_budget, projection_window
from modeldeck.budgets import Budget
from modeldeck.budgets.models import BudgetTarget, period_bounds
from modeldeck.deck import Deck
from modeldeck.settings import Settings
from modeldeck.spend import load_histories, spend_overview
from modeldeck.store import Store
from modeldeck.store.models import DeploymentRow, UsageCallRow
from tests.spend.test_cost_fast_path_random import NOW, random_store

BUDGETS = [
    Budget(name="all", amount_usd=Decimal(100_000)),
    Budget(name="week", period="week", amount_usd=Decimal(5_000)),
    Budget(name="day", period="today", scope="deployment:dep_001", amount_usd=Decimal(50)),
]


# Models of the random stores without listed thinking prices: the previous path refused to
# forecast at all when one of their overflow calls reasoned, so for the equality they do not.
NO_THINKING = ("qwen3-vl-8b-instruct", "qwen3-max-2025-09-23")


def _priced(store: Store) -> None:
    with store.session() as s:
        codes = select(DeploymentRow.deployed_model).where(DeploymentRow.model.in_(NO_THINKING))
        s.execute(
            update(UsageCallRow)
            .where(UsageCallRow.deployed_model.in_(codes))
            .values(reasoning_tokens=0)
        )


def _instants(store: Store) -> list[datetime]:
    """NOW, and instants a few hours after some deployments were created (their projection
    window starts at creation, unlike the others')."""
    with store.session() as s:
        created = sorted(st.history.events[0].at for st in load_histories(s, with_calls=False))
    later = zip(created[::5][:5], (3, 7, 11, 19, 23), strict=True)
    return [NOW, *(c + timedelta(hours=h) for c, h in later)]


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_summed_projection_equals_pricing_each_call(tmp_path: Path, seed: int) -> None:
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    random_store(store, seed, calls=4_000)
    _priced(store)
    deck = Deck(Settings(), store=store)
    settings = AlertSettings()
    window = timedelta(hours=settings.overflow_projection_hours)
    with store.session() as s:
        every_call = load_histories(s)
    inside = 0
    for now in _instants(store):
        with store.session() as s:
            overview = spend_overview(s, deck.catalog, now=now, budgets=BUDGETS, rules=deck.rules)
        bounds = period_bounds("month", now)
        expected = {
            st.row.id: forecast(st.history, bounds, now, deck.catalog, deck.rules, window=window)
            for st in every_call
        }
        got = {f.deployment_id: f for f in overview.forecasts}
        assert got.keys() == expected.keys()
        for dep_id, want in expected.items():
            assert got[dep_id].model_dump() == want.model_dump(), (seed, now, dep_id)
        inside += sum(
            projection_window(st.history, bounds, now, window)[0] > now - window
            for st in every_call
        )
        for budget, made in zip(BUDGETS, overview.budgets, strict=True):
            period = budget.bounds(now)
            pairs = [
                (
                    BudgetTarget(id=st.row.id, deployed_model=st.row.deployed_model, name=None),
                    forecast(st.history, period, now, deck.catalog, deck.rules, window=window),
                )
                for st in every_call
            ]
            want_budget = forecast_budget(budget, pairs, deck.catalog, now)
            assert made.model_dump() == want_budget.model_dump(), (seed, now, budget.name)
    assert inside > 0  # some windows started at creation
    store.dispose()


def test_unpriced_recent_overflow_is_named_not_projected_as_zero(tmp_path: Path) -> None:
    """Recent overflow calls without a listed price: the forecast says so in its assumptions
    (the previous path failed the whole overview), and spend to date has the unpriced line."""
    store = Store(f"sqlite:///{tmp_path / 'u.db'}")
    random_store(store, 3, calls=400)
    with store.session() as s:
        dep = s.scalars(
            select(DeploymentRow).where(DeploymentRow.model == "qwen3-vl-8b-instruct")
        ).first()
        assert dep is not None
        s.execute(
            insert(UsageCallRow),
            [
                {
                    "call_id": f"think{k}",
                    "deployed_model": dep.deployed_model,
                    "model": dep.model,
                    "mode": "instruct",
                    "at": NOW - timedelta(hours=1 + k),
                    "status_code": 200,
                    "input_tokens": 900,
                    "output_tokens": 300,
                    "reasoning_tokens": 120,
                    "cached_tokens": 0,
                    "overflow": True,
                    "latency_ms": 1.0,
                }
                for k in range(3)
            ],
        )
    deck = Deck(Settings(), store=store)
    with store.session() as s:
        overview = spend_overview(s, deck.catalog, now=NOW, rules=deck.rules)
    noted = [
        f
        for f in overview.forecasts
        if any("price is not listed" in a and "[[catalog.prices]]" in a for a in f.assumptions)
    ]
    assert dep.id in {f.deployment_id for f in noted}
    assert all(f.model in NO_THINKING for f in noted)
    store.dispose()
