"""A request carries its effect on every budget it falls under (soft or hard): the forecast
now and with it, and the thresholds it would reach, stored with the request and in its text."""

from __future__ import annotations

from decimal import Decimal

from modeldeck.deck import Deck
from modeldeck.domain import RequestRecord
from modeldeck.grammar import parse
from modeldeck.results import RequestResult
from tests.spend.spendhelpers import MakeDeck

AUTO = {"auto_approve_below_usd_per_day": 100_000}


def soft_budget_at_70_percent(deck: Deck) -> Decimal:
    """One running deployment, and a soft budget `team` whose forecast it fills to 70%.

    The forecast of an unchanged hourly deployment (to date + to come) does not move with time,
    so the budget stays at 70% while the test runs. Returns that forecast."""
    alice, dave = deck.resolve_actor("cli", "alice"), deck.resolve_actor("cli", "dave")
    deck.run(parse("deploy qwen3-32b mu units=1 suffix=base tags=team=search"), alice)
    deck.run(parse("budget set name=team amount=1000000 thresholds=50,80,150"), dave)
    total = deck.budgets().lines[0].forecast.total
    amount = total * 10 / 7
    deck.run(parse(f"budget set name=team amount={amount} scope=tag:team=search"), dave)
    assert abs(deck.budgets().lines[0].forecast.forecast_percent - 70) < Decimal("1e-20")
    return total


def request_of(result: object) -> RequestRecord:
    assert isinstance(result, RequestResult), result
    return result.request


def test_a_request_under_a_soft_budget_at_70_percent_that_would_cross_80_says_so(
    make_deck: MakeDeck,
) -> None:
    deck = make_deck(policy=AUTO)
    total = soft_budget_at_70_percent(deck)
    alice = deck.resolve_actor("cli", "alice")
    result = deck.run(parse("deploy qwen3-32b mu units=1 suffix=next tags=team=search"), alice)
    request = request_of(result)
    [effect] = request.budget_effect
    assert (effect.budget, effect.scope, effect.hard) == ("team", "tag:team=search", False)
    assert effect.before == total and abs(effect.before_percent - 70) < Decimal("1e-20")
    assert 80 < effect.after_percent < 150  # one more unit until the month's end
    assert effect.crosses == [80] and not effect.needs_admin
    assert request.policy.approver_role != "admin"  # soft: an alert, never an approval
    line = next(ln for ln in result.text.splitlines() if "budget team" in ln)
    assert "(soft, tag:team=search): forecast" in line and "(70%) →" in line
    assert "; crosses 80%; forecast over the budget's $" in line
    assert deck.get_request(request.id).budget_effect == [effect]  # stored with the request


def test_a_request_outside_every_budget_scope_carries_no_effect(make_deck: MakeDeck) -> None:
    deck = make_deck(policy=AUTO)
    soft_budget_at_70_percent(deck)
    alice = deck.resolve_actor("cli", "alice")
    result = deck.run(parse("deploy qwen3-32b mu units=1 suffix=ads tags=team=ads"), alice)
    assert request_of(result).budget_effect == []
    assert "budget " not in result.text


def test_an_unpublish_shows_what_it_saves_and_crosses_nothing(make_deck: MakeDeck) -> None:
    deck = make_deck(policy=AUTO)
    soft_budget_at_70_percent(deck)
    alice = deck.resolve_actor("cli", "alice")
    dep = deck.get_deployment("qwen3-32b-base")
    result = deck.run(parse(f"unpublish {dep.id} confirm"), alice)
    [effect] = request_of(result).budget_effect
    assert effect.change < 0 and effect.crosses == []
    assert "→" in result.text and ", -$" in result.text


def test_a_hard_budget_effect_says_an_admin_must_approve(make_deck: MakeDeck) -> None:
    deck = make_deck(policy=AUTO)
    soft_budget_at_70_percent(deck)
    dave = deck.resolve_actor("cli", "dave")
    deck.run(parse("budget set name=team hard=on thresholds=50,80,100"), dave)
    alice = deck.resolve_actor("cli", "alice")
    result = deck.run(parse("deploy qwen3-32b mu units=1 suffix=next tags=team=search"), alice)
    request = request_of(result)
    [effect] = request.budget_effect
    assert effect.hard and effect.needs_admin and effect.crosses == [80, 100]
    assert request.policy.approver_role == "admin"
    assert "crosses 80%, 100%; over the hard budget: needs an admin's approval" in result.text


def test_percentages_are_cut_never_rounded_up_past_a_threshold() -> None:
    from modeldeck.budgets.effect_text import percent

    assert percent(Decimal("79.96")) == "79.9%"  # not yet 80%: never shown as reached
    assert percent(Decimal("69.99999999999999999999999999")) == "70%"  # division noise
    assert percent(Decimal("82.45")) == "82.4%" and percent(Decimal(100)) == "100%"
