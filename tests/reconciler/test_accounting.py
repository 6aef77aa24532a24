"""Accounting never silently zero: console purchases, redeploys, unlisted prices, arrears.

Everything against the sandbox over HTTP; console purchases through its console control.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from modeldeck import plugins, render, rendering
from modeldeck.catalog import Catalog
from modeldeck.deck import Deck
from modeldeck.domain import Actor, DeploymentRecord, DeploySpec
from modeldeck.grammar import parse
from modeldeck.hookspecs import hookimpl
from modeldeck.reconciler import Reconciler
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.settings import Settings
from modeldeck.timeutil import utcnow

ALICE = Actor(principal="alice", surface="cli", roles=["deployer"])
BOB = Actor(principal="bob", surface="cli", roles=["approver"])
MU_MONTHLY = {
    "model_name": "qwen3-32b",
    "plan": "mu",
    "capacity": 1,
    "deploy_spec": "MU1",
    "billing_method": "PRE_PAY",
    "pre_paid_info": {"duration": 30},
    "suffix": "month",
}
PTU_UPFRONT = {
    "model_name": "qwen3-max-2025-09-23",
    "plan": "ptu",
    "charge_type": "pre_paid",
    "ptu_capacity": {"input_tpm": 10, "output_tpm": 1},  # kTPM: 10,000 / 1,000 TPM
    "pre_paid_info": {"duration": 1},
    "suffix": "upfront",
}


def _deck(sb: RunningSandbox, tmp_path: Any) -> Deck:
    return Deck(
        Settings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'acc.db'}",
            provider={"base_url": sb.base_url, "api_key": "sk-sandbox"},
        )
    )


def _console(sb: RunningSandbox, body: dict[str, Any]) -> str:
    resp = sb.http.post("/_sandbox/console/deployments", json=body)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["output"]["deployed_model"])


def _say(deck: Deck, command: str, surface: str = "text") -> Any:
    """Run a command of the grammar as a user would and render it (text or JSON)."""
    return rendering.render(deck.run(parse(command), ALICE), surface)


def _settle(sb: RunningSandbox, deck: Deck, seconds: float = 5.0) -> None:
    """Let the sandbox clock run the purchases to RUNNING, then reconcile."""
    sb.advance(seconds)
    Reconciler(deck).run_once()


def _unlisted(catalog: Catalog, model: str, plan: str, price: str) -> Catalog:
    """The same catalog with one price not listed (as the real catalog has for some models)."""
    prices = [
        p.model_copy(update={"amount": None})
        if (p.model, p.plan, p.price) == (model, plan, price)
        else p
        for p in catalog._prices.values()
    ]
    return Catalog(catalog._models.values(), prices, rates=catalog.rates)


def test_console_prepaid_purchases_are_imported_with_priced_orders(tmp_path: Any) -> None:
    with running_sandbox() as sb:
        deck = _deck(sb, tmp_path)
        mu, ptu = _console(sb, MU_MONTHLY), _console(sb, PTU_UPFRONT)
        _settle(sb, deck)
        _settle(sb, deck)
        mu_dep, ptu_dep = deck.get_deployment(mu), deck.get_deployment(ptu)
        assert (mu_dep.billing, ptu_dep.billing) == ("monthly", "upfront")
        assert ptu_dep.input_tpm == 10_000 and mu_dep.units == 1
        from sqlalchemy import select

        from modeldeck.store.models import OrderRow

        with deck.store.session() as s:
            orders = {o.deployment_id: o for o in s.scalars(select(OrderRow))}
        assert orders[mu_dep.id].kind == "mu_monthly" and orders[mu_dep.id].quantity == 1
        assert orders[mu_dep.id].amount == Decimal("18800")  # the catalog's monthly price
        assert orders[ptu_dep.id].kind == "ptu_daily" and orders[ptu_dep.id].quantity == 1
        assert orders[ptu_dep.id].amount == Decimal("18.72")  # 13.32 + 5.40 for one day
        expired = sb.client().get_deployment(ptu).pre_paid_gmt_expired
        assert expired is not None and orders[ptu_dep.id].expires_at == expired
        report = deck.cost("all", "all")
        by_code = {d.deployed_model: d for d in report.deployments}
        assert by_code[mu].total == Decimal("18800") and by_code[ptu].total == Decimal("18.72")
        assert report.total == Decimal("18818.72")
        assert Reconciler(deck).run_once().imported == []  # once
        with deck.store.session() as s:
            assert len(list(s.scalars(select(OrderRow)))) == 2
        deck.close()


def test_console_purchase_with_unlisted_price_is_flagged_everywhere(tmp_path: Any) -> None:
    with running_sandbox() as sb:
        deck = _deck(sb, tmp_path)
        deck.__dict__["catalog"] = _unlisted(deck.catalog, "qwen3-32b", "mu", "unit_monthly")
        code = _console(sb, MU_MONTHLY)
        _settle(sb, deck)
        dep = deck.get_deployment(code)
        assert dep.price_note and "price unknown" in dep.price_note
        assert "[[catalog.prices]]" in dep.price_note  # the override to set
        assert "PRICE UNKNOWN" in _say(deck, "list all")
        status = _say(deck, f"status {code}")
        assert "PRICE UNKNOWN" in status and "INCOMPLETE" in status
        assert _say(deck, f"status {code}", "json")["cost_so_far"]["price_known"] is False
        report = deck.cost("all", "all")
        text = _say(deck, "cost all period=all")
        assert "price not listed" in text and "$0" not in text.replace("$0.", "")
        data = report.as_data()
        assert data["price_known"] is False
        line = data["deployments"][0]["lines"][0]
        assert line["price_known"] is False and line["amount"] is None
        deck.close()


def _run(deck: Deck, request: Any) -> Any:
    """Approve a request (when it needs it) and return the executed request."""
    if request.status.value == "pending":
        outcome = deck.approve(request.id, BOB)
        assert outcome.outcome == "executed", outcome.message
        return outcome.request
    return request


def test_redeploy_after_unpublish_is_a_new_record_listed_and_billed(tmp_path: Any) -> None:
    with running_sandbox() as sb:
        deck = _deck(sb, tmp_path)
        spec = DeploySpec(model="qwen3-32b", plan="mu", units=1, suffix="again")
        first = _run(deck, deck.request_deploy(spec, ALICE))
        code = deck.get_deployment(first.deployment_id).deployed_model
        assert code == "qwen3-32b-again"
        sb.wait_for_status(sb.client(), code, "RUNNING")
        _run(deck, deck.request_unpublish(code, ALICE))
        sb.wait_for_status(sb.client(), code, None)  # gone at Model Studio
        second = _run(deck, deck.request_deploy(spec, ALICE))  # before any reconcile
        assert second.deployment_id != first.deployment_id
        sb.wait_for_status(sb.client(), code, "RUNNING")
        Reconciler(deck).run_once()
        rows = [d for d in deck.list_deployments(include_deleted=True) if d.deployed_model == code]
        assert {d.id for d in rows} == {first.deployment_id, second.deployment_id}
        new = deck.get_deployment(code)  # the live one
        assert new.id == second.deployment_id and new.status == "RUNNING"
        assert deck.get_deployment(first.deployment_id).status == "DELETED"
        assert [d.id for d in deck.list_deployments()] == [second.deployment_id]
        listed = render.deployments_text(deck.list_deployments(include_deleted=True))
        assert listed.count(code) == 2
        report = deck.cost("all", "all", now=utcnow() + timedelta(minutes=5))
        billed = {d.id: d.by_kind.get("reserved", Decimal(0)) for d in report.deployments}
        assert billed[first.deployment_id] > 0 and billed[second.deployment_id] > 0
        # again after a reconcile marked the first one deleted: a third deployment, a third row
        _run(deck, deck.request_unpublish(code, ALICE))
        sb.wait_for_status(sb.client(), code, None)
        Reconciler(deck).run_once()
        third = _run(deck, deck.request_deploy(spec, ALICE))
        assert third.deployment_id not in (first.deployment_id, second.deployment_id)
        assert deck.get_deployment(code).id == third.deployment_id
        assert len(deck.cost("all", "all").deployments) == 3
        deck.close()


def test_unlisted_payg_price_flags_its_line_and_keeps_the_rest(tmp_path: Any) -> None:
    from modeldeck.metering import MeteredClient

    with running_sandbox() as sb:
        deck = _deck(sb, tmp_path)
        mu = _run(
            deck, deck.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), ALICE)
        )
        ds = _run(
            deck,
            deck.request_deploy(
                DeploySpec(model="deepseek-v3.2", plan="ptu", input_tpm=10000, output_tpm=1000),
                ALICE,
            ),
        )
        code = deck.get_deployment(ds.deployment_id).deployed_model
        assert code is not None
        sb.wait_for_status(sb.client(), code, "RUNNING")
        with MeteredClient(
            sb.base_url, "sk-sandbox", store=deck.store, journal_dir=tmp_path / "j"
        ) as client:
            result = client.chat(code, [{"role": "user", "content": "hi"}], max_tokens=1500)
            assert client.flush(10)
        assert result.overflow  # 1,500 output tokens over a 1,000 TPM reservation
        tokens = result.record.input_tokens + result.record.output_tokens
        report = deck.cost("all", "all", now=utcnow() + timedelta(minutes=5))
        by_id = {d.id: d for d in report.deployments}
        assert by_id[mu.deployment_id].total > 0 and by_id[mu.deployment_id].price_known
        flagged = [line for line in by_id[ds.deployment_id].lines if not line.price_known]
        assert len(flagged) == 1 and flagged[0].kind == "overflow"
        assert flagged[0].unpriced_tokens == tokens
        assert by_id[ds.deployment_id].by_kind["reserved"] > 0  # its reserved time still billed
        assert report.total == sum((d.total for d in report.deployments), Decimal(0))
        text = render.cost_text(report)
        assert f"price not listed: {tokens:,} tokens unpriced" in text
        assert "price not listed" in _say(deck, "cost all")  # the verb as a user types it
        status = _say(deck, f"status {code}")
        assert "INCOMPLETE" in status and f"{tokens:,} tokens unpriced" in status
        assert 'model = "deepseek-v3.2", plan = "payg"' in text  # the override to set
        assert "excludes 1 line(s) whose price is not listed" in text
        data = report.as_data()
        assert data["total_excludes_unpriced_lines"] == 1 and data["price_known"] is False
        line = next(
            ln for d in data["deployments"] for ln in d["lines"] if ln["price_known"] is False
        )
        assert line["amount"] is None and line["unpriced_tokens"] == tokens
        deck.close()


class Events:
    """A temporary plugin keeping every event the deck publishes."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    @hookimpl
    def track_event(self, event, deck):  # type: ignore[no-untyped-def]
        self.seen.append(event)

    def named(self, name: str) -> list[Any]:
        return [e for e in self.seen if e.name == name]


@pytest.fixture
def events() -> Iterator[Events]:
    log = Events()
    pm = plugins.get_plugin_manager()
    pm.register(log, name="accounting-events")
    yield log
    pm.unregister(log)


def _hourly_mu(deck: Deck, sb: RunningSandbox) -> DeploymentRecord:
    done = _run(deck, deck.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), ALICE))
    dep = deck.get_deployment(done.deployment_id)
    assert dep.deployed_model is not None
    sb.wait_for_status(sb.client(), dep.deployed_model, "RUNNING")
    Reconciler(deck).run_once()
    return deck.get_deployment(dep.id)


def test_arrears_kept_24h_then_released_and_billed_exactly_that(
    tmp_path: Any, events: Events
) -> None:
    with running_sandbox() as sb:
        deck = _deck(sb, tmp_path)
        dep = _hourly_mu(deck, sb)
        assert dep.status == "RUNNING"
        sb.set_arrears(True)
        reconciler = Reconciler(deck)
        report = reconciler.run_once()
        assert (dep.id, "RUNNING", "ARREARS_DOWN") in report.status_changes
        assert deck.get_deployment(dep.id).status == "ARREARS_DOWN"
        marked = [
            a["at"]
            for a in deck.audit(subject=dep.id)
            if a["action"] == "status" and a["detail"].get("new") == "ARREARS_DOWN"
        ]
        assert len(marked) == 1  # the reconciler saw it go into arrears, once
        since = datetime.fromisoformat(marked[0])  # the audit shows whole seconds
        release = since + timedelta(hours=24, seconds=1)
        assert reconciler.run_once(now=release - timedelta(hours=3)).arrears == []
        soon = reconciler.run_once(now=release - timedelta(hours=2))
        assert soon.arrears == [(dep.id, "arrears_release_soon")]
        assert reconciler.run_once(now=release - timedelta(hours=1)).arrears == []  # once
        sb.advance(24 * 3600 + 60)  # Model Studio releases it 24 h after it was marked
        gone = reconciler.run_once(now=release + timedelta(minutes=7))
        assert gone.arrears == [(dep.id, "arrears_released")]
        assert (dep.id, "ARREARS_DOWN", "DELETED") in gone.status_changes
        released = deck.get_deployment(dep.id)
        assert released.status == "DELETED"
        kinds = [e.event for e in events.named("arrears_timeline")]
        assert kinds == ["arrears_release_soon", "arrears_released"]
        release = events.named("arrears_timeline")[1].release_at
        assert timedelta(0) <= release - (since + timedelta(hours=24)) < timedelta(seconds=1)
        # billed from creation through the 24 h of arrears, to the release and not a minute more
        report_cost = deck.cost(dep.id, "all", now=release + timedelta(hours=5))
        reserved = [line for line in report_cost.deployments[0].lines if line.kind == "reserved"]
        assert len(reserved) == 1
        minutes = -(-(release - dep.created_at) // timedelta(minutes=1))
        assert reserved[0].quantity == minutes
        cents = Decimal("0.01")  # qwen3-32b: $40 per unit-hour
        assert reserved[0].amount.quantize(cents) == (Decimal(40) * minutes / 60).quantize(cents)
        audit = [a["action"] for a in deck.audit(subject=dep.id)]
        assert "arrears_release_soon" in audit and "arrears_released" in audit
        deck.close()


def test_arrears_paid_in_time_recovers_and_keeps_billing(tmp_path: Any) -> None:
    with running_sandbox() as sb:
        deck = _deck(sb, tmp_path)
        dep = _hourly_mu(deck, sb)
        sb.set_arrears(True)
        Reconciler(deck).run_once()
        assert deck.get_deployment(dep.id).status == "ARREARS_DOWN"
        sb.set_arrears(False)
        Reconciler(deck).run_once()
        assert deck.get_deployment(dep.id).status == "ARREARS_RECOVERING"
        sb.advance(5)
        Reconciler(deck).run_once()
        assert deck.get_deployment(dep.id).status == "RUNNING"
        later = utcnow() + timedelta(hours=3)
        lines = deck.cost(dep.id, "all", now=later).deployments[0].lines
        reserved = [line for line in lines if line.kind == "reserved"]
        assert len(reserved) == 1  # one unbroken segment: arrears never stopped the billing
        assert reserved[0].quantity is not None and reserved[0].quantity >= 180
        deck.close()
