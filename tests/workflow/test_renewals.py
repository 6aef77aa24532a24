"""`renew <deployment> days=N [auto_renew=on|off]`: a money-changing request like any other (two
approvers for a prepaid order), executed at Model Studio with the request id as idempotency key,
and the stored order's timeline extended."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from modeldeck.deck import Deck
from modeldeck.domain import DeploySpec, RequestStatus
from modeldeck.errors import GrammarError, UserError
from modeldeck.grammar import RenewCommand, parse
from modeldeck.results import RequestResult
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.settings import Settings
from modeldeck.store.models import OrderRow
from tests.workflow.wfhelpers import PRINCIPALS

UPFRONT = DeploySpec(
    model="qwen3-max-2025-09-23",
    plan="ptu",
    input_tpm=10000,
    output_tpm=1000,
    billing="upfront",
    days=7,
)


@pytest.fixture
def sb() -> Iterator[RunningSandbox]:
    with running_sandbox(deploy_delay_seconds=0.05, operation_delay_seconds=0.05) as running:
        yield running


@pytest.fixture
def deck(sb: RunningSandbox) -> Iterator[Deck]:
    yield from _deck(sb)


def _deck(sb: RunningSandbox) -> Iterator[Deck]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            principals=PRINCIPALS,
            sandbox={"host": sb.server.host, "port": sb.server.port},
        )
        with closing(Deck(settings)) as built:
            yield built


def approve_all(deck: Deck, request_id: str) -> None:
    for who in ("U0BOB", "U0CAROL"):
        if deck.get_request(request_id).status == RequestStatus.PENDING:
            deck.approve(request_id, deck.resolve_actor("slack", who))


def test_renew_parses_into_its_command() -> None:
    command = parse("renew my-ptu days=30 auto_renew=on")
    assert isinstance(command, RenewCommand)
    assert (command.spec.deployment, command.spec.days, command.spec.auto_renew) == (
        "my-ptu",
        30,
        True,
    )
    with pytest.raises(GrammarError, match="days"):
        parse("renew my-ptu")


def test_a_renewal_needs_two_approvers_and_extends_the_order(
    deck: Deck, sb: RunningSandbox
) -> None:
    alice = deck.resolve_actor("jupyter", "alice")
    req = deck.request_deploy(UPFRONT, alice)
    approve_all(deck, req.id)
    sb.advance(5)  # the create's operation ends (changes on one code run in order)
    dep_id = deck.get_request(req.id).deployment_id or ""
    with deck.store.session() as session:
        before = session.query(OrderRow).filter_by(deployment_id=dep_id).one()
        assert before.amount is not None
        old_expiry, old_amount = before.expires_at, before.amount
    assert old_expiry is not None

    result = deck.run(parse(f"renew {dep_id} days=3"), alice)
    assert isinstance(result, RequestResult) and result.verb == "renew"
    renewal = result.request
    assert renewal.policy.approvers_required == 2
    assert renewal.estimate is not None
    # days x the daily price of the current capacity (7 days cost old_amount)
    assert Decimal(renewal.estimate.total) == old_amount / 7 * 3
    approve_all(deck, renewal.id)
    done = deck.get_request(renewal.id)
    assert done.status == RequestStatus.EXECUTED, f"renewal failed: {done.error}"
    with deck.store.session() as session:
        rows = session.query(OrderRow).filter_by(deployment_id=dep_id).all()
        latest = max(r.expires_at for r in rows if r.expires_at is not None)
    assert latest == old_expiry + timedelta(days=3)


def test_renewing_a_deployment_without_a_prepaid_order_is_refused(deck: Deck) -> None:
    alice = deck.resolve_actor("jupyter", "alice")
    hourly = UPFRONT.model_copy(update={"billing": "hourly", "days": None})
    req = deck.request_deploy(hourly, alice)
    approve_all(deck, req.id)
    dep_id = deck.get_request(req.id).deployment_id or ""
    with pytest.raises(UserError, match="prepaid"):
        deck.run(parse(f"renew {dep_id} days=3"), alice)


def test_the_reconciler_auto_renews_an_order_once_before_it_expires(
    deck: Deck, sb: RunningSandbox
) -> None:
    from modeldeck.workflow import orders

    alice = deck.resolve_actor("jupyter", "alice")
    req = deck.request_deploy(UPFRONT.model_copy(update={"auto_renewal": True}), alice)
    approve_all(deck, req.id)
    sb.advance(5)
    dep_id = deck.get_request(req.id).deployment_id or ""
    first = orders.current_order(deck, dep_id)
    assert first is not None and first.expires_at is not None
    early = first.expires_at - timedelta(hours=30)
    assert "auto_renewed" not in [e for _, e in orders.drive_timelines(deck, early)]
    due = first.expires_at - timedelta(hours=20)
    fired = orders.drive_timelines(deck, due)
    assert (first.id, "auto_renewed") in fired
    assert orders.drive_timelines(deck, due) == []  # once, even when the pass runs again
    renewed = orders.current_order(deck, dep_id)
    assert renewed is not None and renewed.id != first.id
    assert renewed.expires_at == first.expires_at + timedelta(days=7)
    assert renewed.amount == first.amount


def test_an_order_without_auto_renewal_is_left_to_expire(deck: Deck, sb: RunningSandbox) -> None:
    from modeldeck.workflow import orders

    alice = deck.resolve_actor("jupyter", "alice")
    req = deck.request_deploy(UPFRONT, alice)
    approve_all(deck, req.id)
    sb.advance(5)
    dep_id = deck.get_request(req.id).deployment_id or ""
    first = orders.current_order(deck, dep_id)
    assert first is not None and first.expires_at is not None
    fired = orders.drive_timelines(deck, first.expires_at - timedelta(hours=20))
    assert [e for _, e in fired] == ["expires_in_24h"]


def test_a_replayed_renewal_answers_with_the_first(deck: Deck, sb: RunningSandbox) -> None:
    """A renewal carries its submission's idempotency key like every other request."""
    alice = deck.resolve_actor("jupyter", "alice")
    req = deck.request_deploy(UPFRONT, alice)
    approve_all(deck, req.id)
    sb.advance(5)
    dep_id = deck.get_request(req.id).deployment_id or ""
    renew = parse(f"renew {dep_id} days=3")
    first = deck.run(renew, alice, idempotency_key="renew-click-1")
    again = deck.run(renew, alice, idempotency_key="renew-click-1")
    assert isinstance(first, RequestResult) and isinstance(again, RequestResult)
    assert again.request.id == first.request.id
    assert [r.id for r in deck.list_requests() if r.kind == "renew"] == [first.request.id]
