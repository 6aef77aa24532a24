"""The Catalog tab (issue 14 item 4): every price with its source and date; a row fills the form."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from modeldeck.money import format_amount
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter.html import visible_text
from modeldeck_jupyter.panel import CATALOG_TAB, FORM_TAB, TAB_TITLES


@pytest.fixture
def panel(stack: Stack) -> Iterator[DeckPanel]:
    assert stack.deck is not None
    built = Deck(stack.deck, user="alice", auto_refresh=False)
    yield built
    built.close()


def test_every_price_with_source_and_date(panel: DeckPanel, stack: Stack) -> None:
    assert stack.deck is not None
    assert panel.problem is None, panel.problem
    assert TAB_TITLES[CATALOG_TAB] == "Catalog"
    shown = visible_text(panel.catalog.html.value)
    rows = stack.deck.models()
    assert panel.catalog.html.value.count("modeldeck-catalog-row") == len(rows)
    for row in rows:
        assert row["source"] in shown and row["as_of"] in shown
        if row.get("listed", True) and str(row.get("amount")).replace(".", "").isdigit():
            amount = Decimal(str(row["amount"]))
            assert format_amount(amount, row["currency"], exact=True) in shown
    assert "Tiers:" in shown
    assert "$0 " not in shown.replace("$0.", "")  # nothing unknown shown as zero


def test_choosing_a_row_fills_the_estimate_form(panel: DeckPanel) -> None:
    choices = [value for _, value in panel.catalog.pick.options]
    mu = next(c for c in choices if c[1] == "mu" and c[0] != panel.model.value)
    panel.tabs.selected_index = CATALOG_TAB
    panel.catalog.pick.value = mu
    panel.catalog.use_button.click()
    assert (panel.model.value, panel.plan.value) == mu[:2]
    assert panel.tabs.selected_index == FORM_TAB
    assert panel.last_estimate is not None and panel.last_estimate.model == mu[0]


def test_limits_per_model_with_source_and_unknown_where_not_known(
    panel: DeckPanel, stack: Stack
) -> None:
    from modeldeck_jupyter.catalog_view import limit_rows

    assert stack.deck is not None
    models = stack.deck.models()
    html = panel.catalog.html.value
    assert html.count("modeldeck-limits-row") == len({r["model"] for r in models})
    shown = visible_text(html)
    assert "Max context (input + output tokens)" in shown and "Max input tokens" in shown
    rows = {r["model"]: r for r in limit_rows(models)}
    assert (rows["deepseek-v3.2"]["context"], rows["deepseek-v3.2"]["input"]) == (
        "64,000",
        "64,000",
    )
    # MU models: the seed fixes the context and gives no max input, so it is unknown
    assert (rows["qwen3-32b"]["context"], rows["qwen3-32b"]["input"]) == (
        "fixed at 131,072",
        "unknown",
    )
    assert "Model Deployment Overview" in rows["qwen3-32b"]["source"]
    bare = limit_rows([{"model": "acme-7b", "max_context": None}])[0]
    assert bare == {
        "model": "acme-7b",
        "context": "unknown",
        "input": "unknown",
        "source": "unknown",
        "as_of": "unknown",
    }


def test_a_ptu_thinking_row_fills_model_plan_and_mode(panel: DeckPanel) -> None:
    choice = ("deepseek-v3.2", "ptu", "thinking")
    assert choice in [value for _, value in panel.catalog.pick.options]
    panel.catalog.pick.value = choice
    panel.catalog.use_button.click()
    assert (panel.model.value, panel.plan.value, panel.mode.value) == choice
    assert panel.last_estimate is not None, panel.last_error
    assert (panel.last_estimate.model, panel.last_estimate.mode) == ("deepseek-v3.2", "thinking")
