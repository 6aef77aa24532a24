"""Chart data from the store: usage per minute with gaps filled, a budget's spend chart."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from modeldeck.budgets import Budget
from modeldeck.charts import figure, render
from modeldeck.deck import Deck
from modeldeck.settings import Settings
from modeldeck.spend import spend_overview
from modeldeck.spend.charts import budget_chart_data, plan_chart_data, usage_chart_data
from modeldeck.store import Store
from tests.spend.test_spend_overview import NOW, populate


def test_chart_data_from_the_store(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    populate(store)
    deck = Deck(Settings(), store=store)
    with store.session() as s:
        usage = usage_chart_data(s, "m-dep_a", 20_000, NOW - timedelta(minutes=30), NOW)
        assert len(usage.minutes) == 30 and sum(usage.input_tokens) == 100_000
        assert usage.input_tokens[20] == 100_000  # the minute 10 minutes before now
        overview = spend_overview(
            s,
            deck.catalog,
            now=NOW,
            budgets=[Budget(name="a", scope="deployment:dep_a", amount_usd=Decimal(2000))],
        )
        chart = budget_chart_data(s, deck.catalog, overview.budgets[0])
    assert chart.actual[-1].amount == overview.budgets[0].to_date  # adjacent days add up exactly
    assert chart.forecast[-1].amount == overview.budgets[0].total
    _, labels = figure(chart).axes[0].get_legend_handles_labels()
    assert labels == ["actual", "forecast", "budget $2,000.00"]
    assert render(usage).startswith(b"\x89PNG")
    plan = plan_chart_data(
        [(10_000, Decimal("3.36")), (20_000, Decimal("6.72"))], (20_000, Decimal("6.72"))
    )
    assert plan.recommended_cost == Decimal("6.72")
    store.dispose()
