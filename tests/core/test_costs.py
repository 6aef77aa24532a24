"""Cost queries over the store: a real deploy through the sandbox, accrued by the billing engine."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest

from modeldeck.costs import cost_report, resolve_period
from modeldeck.domain import Actor, DeploySpec, ScaleSpec
from modeldeck.errors import GrammarError
from modeldeck.grammar import parse
from modeldeck.results import CostResult, DeploymentStatusResult
from modeldeck.testing import Stack
from modeldeck.timeutil import BEIJING

ALICE = Actor(principal="alice", surface="cli", roles=["deployer"])
BOB = Actor(principal="bob", surface="slack", roles=["approver"])


def _running(stack: Stack, dep_id: str) -> None:
    assert stack.deck is not None
    for _ in range(200):
        if stack.deck.refresh() and stack.deck.get_deployment(dep_id).status == "RUNNING":
            return
        time.sleep(0.05)
    raise AssertionError("deployment never reached RUNNING")


def test_cost_of_an_mu_deployment_matches_worked_example_3() -> None:
    with Stack() as stack:
        deck = stack.deck
        assert deck is not None
        req = deck.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=2), ALICE)
        outcome = deck.approve(req.id, BOB)
        dep = deck.get_deployment(outcome.request.deployment_id or "")
        # 90 min 30 s after creation: 91 billed minutes x 2 units x $40/h = $121.33
        report = cost_report(
            deck, dep.id, "all", now=dep.created_at + timedelta(minutes=90, seconds=30)
        )
        assert Decimal(report.data["total"]).quantize(Decimal("0.01")) == Decimal("121.33")
        assert report.data["deployments"][0]["by_kind"].keys() == {"reserved"}
        assert "$121.33" in report.text
        # scaling to 1 unit after 60 min: 60 min x 2 units + 30.5 -> 31 min x 1 unit
        _running(stack, dep.id)
        scale = deck.request_scale(ScaleSpec(deployment=dep.id, units=1), ALICE)
        scaled = deck.approve(scale.id, BOB).request
        assert scaled.executed_at is not None
        first = scaled.executed_at - dep.created_at
        later = cost_report(deck, dep.id, "all", now=scaled.executed_at + timedelta(minutes=31))
        # each segment billed per started minute from its own start
        minutes_2_units = -(-first // timedelta(minutes=1))
        expected = Decimal(2 * 40 * minutes_2_units) / 60 + Decimal(1 * 40 * 31) / 60
        assert Decimal(later.data["total"]) == expected
        assert [line["kind"] for line in later.data["deployments"][0]["lines"]] == [
            "reserved",
            "reserved",
        ]
        run = deck.run(parse(f"cost {dep.deployed_model} period=today"), ALICE)
        assert isinstance(run, CostResult) and run.report.deployments[0].id == dep.id
        status = deck.run(parse(f"status {dep.deployed_model}"), ALICE)
        assert isinstance(status, DeploymentStatusResult) and status.cost_so_far > 0
        assert "cost so far: $" in status.text


def test_cost_of_nothing_is_zero_and_lists_no_lines() -> None:
    with Stack() as stack:
        assert stack.deck is not None
        report = cost_report(stack.deck, "all", "month")
        assert report.data["total"] == "0" and report.data["deployments"] == []


@pytest.mark.parametrize(
    ("period", "hours"),
    [("week", 87.5), ("last-month", None), ("year", None), ("2026-03-01", 24), ("24h", 24)],
)
def test_every_grammar_period_resolves(period: str, hours: float | None) -> None:
    from datetime import datetime

    now = datetime(2026, 3, 12, 15, 30, tzinfo=BEIJING)  # a Thursday: week = since Monday
    start, end = resolve_period(period, now)
    assert start < end <= now + timedelta(days=1)
    if hours is not None:
        assert end - start == timedelta(hours=hours)
    if period == "2026-03-01":
        assert start.hour == 0 and start.tzinfo is not None


def test_bad_period_is_a_clear_error() -> None:
    with pytest.raises(GrammarError, match="not a period"):
        resolve_period("fortnight")


def test_billing_method_cannot_change_on_a_live_deployment() -> None:
    from modeldeck.errors import ConflictError, GrammarError
    from modeldeck.grammar import parse

    with Stack() as stack:
        deck = stack.deck
        assert deck is not None
        first = deck.request_deploy(
            DeploySpec(model="qwen3-32b", plan="mu", units=1, name="eval"), ALICE
        )
        deck.approve(first.id, BOB)
        with pytest.raises(ConflictError, match="cannot be changed after creation") as err:
            deck.request_deploy(
                DeploySpec(model="qwen3-32b", plan="mu", units=1, name="eval", billing="monthly"),
                ALICE,
            )
        assert "unpublish it and deploy it again with billing=monthly" in str(err.value)
        with pytest.raises(GrammarError, match="cannot be changed after it is created"):
            parse("scale eval billing=monthly")
