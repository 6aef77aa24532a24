"""Deployments carry the tags set at deploy time; budgets' `tag:` scopes match them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from modeldeck.budgets import Budget
from modeldeck.errors import GrammarError
from modeldeck.grammar import parse
from modeldeck.grammar.commands import DeployCommand
from modeldeck.spend import spend_overview
from modeldeck.timeutil import utcnow
from tests.spend.spendhelpers import MakeDeck


def test_deploy_parses_tags_and_the_tag_alias() -> None:
    command = parse("deploy qwen3-32b mu units=1 tags=team=search,cc=42")
    assert isinstance(command, DeployCommand)
    assert command.spec.tags == {"team": "search", "cc": "42"}
    assert parse("deploy qwen3-32b mu units=1 tag=team=search").spec.tags == {"team": "search"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("tags=team", "each tag is <key>=<value>"),
        ("tags=team=a,team=b", "given twice"),
        ("tags=te@m=a", "may use only"),
        ("tags==a", "each tag is <key>=<value>"),
    ],
)
def test_bad_tags_say_what_is_allowed(text: str, words: str) -> None:
    with pytest.raises(GrammarError, match=words):
        parse(f"deploy qwen3-32b mu units=1 {text}")


def test_estimate_takes_no_tags() -> None:
    with pytest.raises(GrammarError, match="does not apply"):
        parse("estimate qwen3-32b mu units=1 tags=team=search")


def test_tags_are_stored_and_matched_by_a_tag_budget(make_deck: MakeDeck) -> None:
    deck = make_deck(policy={"auto_approve_below_usd_per_day": 100_000})
    alice = deck.resolve_actor("cli", "alice")
    tagged = deck.run(parse("deploy qwen3-32b mu units=1 tags=team=search,cc=42"), alice)
    other = deck.run(parse("deploy qwen3-32b mu units=1 suffix=other"), alice)
    assert tagged.ok and other.ok
    records = {d.request_id: d for d in deck.list_deployments()}
    tagged_dep = records[tagged.request.id]  # type: ignore[attr-defined]
    assert tagged_dep.tags == {"team": "search", "cc": "42"}
    assert records[other.request.id].tags == {}  # type: ignore[attr-defined]

    budget = Budget(name="search", scope="tag:team=search", amount_usd=Decimal(100))
    workspace = Budget(name="all", amount_usd=Decimal(100))
    with deck.store.session() as session:
        overview = spend_overview(
            session, deck.catalog, now=utcnow() + timedelta(hours=2), budgets=[budget, workspace]
        )
    by_name = {b.budget.name: b for b in overview.budgets}
    assert by_name["search"].deployments == [tagged_dep.id]
    assert set(by_name["all"].deployments) == {d.id for d in records.values()}
