"""Forecasts' spend to date from the period's overflow summed in SQL equals pricing every
stored call, deployment by deployment, including a Model Code deployed again (its calls go to
the row that was live at each call)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from modeldeck.billing.forecast import forecast
from modeldeck.budgets.models import period_bounds
from modeldeck.deck import Deck
from modeldeck.settings import Settings
from modeldeck.spend import load_histories, spend_overview
from modeldeck.store import Store
from modeldeck.store.models import DeploymentRow, UsageCallRow
from tests.spend.test_cost_scale import more_calls
from tests.spend.test_spend_overview import NOW, T0, _call, _dep, populate

AGAIN = T0 + timedelta(days=4, hours=3, seconds=17)  # the code is deployed again


def reused_code(store: Store) -> None:
    """`m-reuse`: a first row unpublished, then a second one; overflow calls before and after."""
    with store.session() as s:
        first = _dep("dep_r1", status="DELETED", deleted_at=AGAIN - timedelta(hours=1))
        second = _dep("dep_r2", created_at=AGAIN, updated_at=AGAIN)
        for row in (first, second):
            row["deployed_model"] = "m-reuse"
        s.execute(insert(DeploymentRow), [first, second])
        calls = [
            _call(20_000 + n, "reuse", T0 + timedelta(hours=7 * n, seconds=n), 40_000, True)
            for n in range(40)
        ]
        s.execute(insert(UsageCallRow), calls)


def test_spend_to_date_from_grouped_sums_equals_pricing_every_call(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    populate(store)
    more_calls(store)
    reused_code(store)
    deck = Deck(Settings(), store=store)
    with store.session() as s:
        overview = spend_overview(s, deck.catalog, now=NOW)
        every_call = load_histories(s)
    bounds = period_bounds("month", NOW)
    expected = {
        st.row.id: forecast(st.history, bounds, NOW, deck.catalog, deck.rules).to_date
        for st in every_call
    }
    got = {f.deployment_id: f.to_date for f in overview.forecasts}
    assert got == expected
    by_kind = {f.deployment_id: f.to_date_by_kind for f in overview.forecasts}
    assert by_kind["dep_r1"]["overflow"] > 0 and by_kind["dep_r2"]["overflow"] > 0
    store.dispose()
