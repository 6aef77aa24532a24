"""The notebook's request views name the budgets a request falls under: the forecast now → with
it and the thresholds it would cross (a soft budget at 70% taken past 80% says so)."""

from __future__ import annotations

from decimal import Decimal

from modeldeck.grammar import parse
from modeldeck.results import RequestResult
from modeldeck.testing import Stack
from modeldeck_jupyter.budget_view import budget_effect_html
from modeldeck_jupyter.html import visible_text
from modeldeck_jupyter.render import request_html
from modeldeck_jupyter.tables import approval_html

AUTO = {"auto_approve_below_usd_per_day": Decimal("100000")}


def test_a_request_that_takes_a_soft_budget_past_80_percent_says_so_in_the_notebook() -> None:
    with Stack(policy=AUTO) as stack:
        deck = stack.deck
        assert deck is not None
        alice, ops = deck.resolve_actor("jupyter", "alice"), deck.resolve_actor("cli", "ops")
        deck.run(parse("deploy qwen3-32b mu units=1 suffix=base"), alice)
        deck.run(parse("budget set name=team amount=1000000 thresholds=50,80,150"), ops)
        total = deck.budgets().lines[0].forecast.total
        deck.run(parse(f"budget set name=team amount={total * 10 / 7}"), ops)
        result = deck.run(parse("deploy qwen3-32b mu units=1 suffix=next"), alice)
    assert isinstance(result, RequestResult)
    request = result.request
    for html in (request_html(request), approval_html(request)):
        assert "class='modeldeck-budgets'" in html
        assert html.count("<li class='modeldeck-budget'>") == 1
        text = visible_text(html)
        assert "Budgets (forecast for the period: now → with this request)" in text
        assert "team (soft, workspace): forecast $" in text and "(70%) → $" in text
        assert "; crosses 80%;" in text
        assert '<span class="modeldeck-dollar">$</span>' in html  # kept from MathJax
    assert budget_effect_html(request.model_copy(update={"budget_effect": []})) == ""
