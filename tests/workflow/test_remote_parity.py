"""`cost` and `request_limits` are DeckAPI methods: one typed answer in-process and over REST."""

from __future__ import annotations

from typing import Any

from modeldeck.api import DeckAPI
from modeldeck.domain import DeploySpec, LimitsSpec
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.server.client import RemoteDeck
from modeldeck.serving import ServerThread
from modeldeck.workflow.costs import CostReport, render_cost_text
from tests.workflow.wfhelpers import MakeDeck

ONE_UNIT = DeploySpec(model="qwen3-32b", plan="mu", units=1)


def test_cost_and_limits_over_rest_match_the_deck(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    from modeldeck.server import create_app

    deck = make_deck(principals=[], policy={"auto_approve_below_usd_per_day": 100_000})
    with ServerThread(create_app(deck, deck.settings)) as server:
        remote = RemoteDeck(server.url)
        try:
            surfaces: list[Any] = [deck, remote]
            assert all(isinstance(s, DeckAPI) for s in surfaces)
            alice = remote.resolve_actor("jupyter", "alice")
            req = remote.request_deploy(ONE_UNIT, alice)
            dep = remote.get_deployment(req.deployment_id or "")
            sandbox.wait_for_status(sandbox.client(), dep.deployed_model or "", "RUNNING")
            limits = remote.request_limits(LimitsSpec(deployment=dep.id, rpm_limit=60), alice)
            assert limits.kind == "limits" and limits.deployment_id == dep.id
            over_rest = remote.cost(dep.id, "all")
            local = deck.cost(dep.id, "all")
        finally:
            remote.close()
    assert isinstance(over_rest, CostReport)
    assert over_rest.deployments[0].id == dep.id and over_rest.currency == "USD"
    assert over_rest.period.name == local.period.name == "all" and over_rest.target == dep.id
    assert over_rest.period.start == local.period.start
    assert over_rest.total > 0 and local.total >= over_rest.total  # time only adds cost
    assert render_cost_text(over_rest).startswith("Spend ")
