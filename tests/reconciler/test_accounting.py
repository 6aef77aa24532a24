"""Accounting never silently zero: console purchases, redeploys, unlisted prices, arrears.

Everything against the sandbox over HTTP; console purchases through its console control.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from modeldeck import render, rendering
from modeldeck.catalog import Catalog
from modeldeck.deck import Deck
from modeldeck.domain import Actor, DeploySpec
from modeldeck.grammar import parse
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
