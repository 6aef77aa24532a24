"""Row actions in the deployments table (issue 14 item 1): scale, limits, unpublish, history."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest

from modeldeck.domain import DeploymentRecord
from modeldeck.grammar import DeployCommand, parse
from modeldeck.money import format_amount
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter.deployment_rows import hourly_spec, label
from modeldeck_jupyter.html import visible_text

MU_MODEL = "qwen3-32b"
_suffixes = itertools.count(1)


def running(stack: Stack) -> DeploymentRecord:
    """A fresh MU deployment, auto-approved, executed and synced until RUNNING."""
    assert stack.deck is not None
    command = parse(f"deploy {MU_MODEL} mu units=1 suffix=row{next(_suffixes)}")
    assert isinstance(command, DeployCommand)
    actor = stack.deck.resolve_actor("jupyter", "bob")
    record = stack.deck.request_deploy(command.spec, actor)
    assert record.deployment_id is not None, record.status
    for _ in range(100):
        stack.deck.refresh()
        dep = stack.deck.get_deployment(record.deployment_id)
        if str(dep.status) == "RUNNING":
            return dep
        time.sleep(0.1)
    raise AssertionError(f"{dep.id} never ran: {dep.status}")


@pytest.fixture
def panel(auto_stack: Stack) -> Iterator[DeckPanel]:
    assert auto_stack.deck is not None
    built = Deck(auto_stack.deck, user="bob", auto_refresh=False)
    yield built
    built.close()


def test_live_by_default(auto_stack: Stack) -> None:
    assert auto_stack.deck is not None
    live = Deck(auto_stack.deck, user="bob")
    try:
        assert live.auto_refreshing
        assert live.auto_refresh.value is True
    finally:
        live.close()


def test_scale_shows_current_new_and_the_cost_difference(
    panel: DeckPanel, auto_stack: Stack
) -> None:
    assert auto_stack.deck is not None
    dep = running(auto_stack)
    panel.refresh_deployments(sync=False)
    row = panel.rows[dep.id]
    row.scale_button.click()
    assert row.scale_box.layout.display is None
    row.scale_units.value = "3"
    before = auto_stack.deck.estimate(hourly_spec(dep)).total
    after = auto_stack.deck.estimate(hourly_spec(dep, units=3)).total
    shown = visible_text(row.scale_preview.value)
    assert f"{dep.capacity} → " in shown
    assert f"(+{format_amount(after - before, 'USD')})" in shown
    row.scale_units.value = "2.5"
    assert "units=2.5 is not a whole number" in visible_text(row.scale_preview.value)
    assert row.scale_units.value == "2.5"
    row.scale_units.value = "3"
    row.scale_send.click()
    (request,) = row.requests
    assert request.kind == "scale" and request.deployment_id == dep.id
    assert request.id in row.status_html.value
    assert str(auto_stack.deck.get_request(request.id).status) in row.status_html.value


def test_limits_is_a_request(panel: DeckPanel, auto_stack: Stack) -> None:
    dep = running(auto_stack)
    panel.refresh_deployments(sync=False)
    row = panel.rows[dep.id]
    row.limits_button.click()
    row.rpm.value = "60"
    row.tpm.value = "50k"
    row.limits_send.click()
    (request,) = row.requests
    assert request.kind == "limits"
    assert request.limits is not None
    assert (request.limits.rpm_limit, request.limits.tpm_limit) == (60, 50_000)


def test_unpublish_needs_the_name_typed_and_the_row_stays(
    panel: DeckPanel, auto_stack: Stack
) -> None:
    assert auto_stack.deck is not None
    dep = running(auto_stack)
    panel.refresh_deployments(sync=False)
    row = panel.rows[dep.id]
    row.unpublish_button.click()
    assert row.unpublish_send.disabled
    row.confirm.value = "yes"
    assert row.unpublish_send.disabled
    assert row.request_unpublish() is None
    assert f"Type {label(dep)} exactly" in visible_text(row.status_html.value)
    row.confirm.value = label(dep)
    assert not row.unpublish_send.disabled
    row.unpublish_send.click()
    (request,) = row.requests
    assert request.kind == "unpublish"
    for _ in range(100):
        panel.refresh_deployments(sync=True)
        if str(panel.rows[dep.id].dep.status) in ("DELETED", "DELETING"):
            break
        time.sleep(0.1)
    shown = visible_text(panel.deployments_html.value)
    assert "No deployments yet" not in shown
    assert str(panel.rows[dep.id].dep.status) in shown
    assert panel.rows[dep.id].scale_button.disabled  # a gone deployment offers no actions

    fresh = Deck(auto_stack.deck, user="bob", auto_refresh=False)
    try:
        if str(auto_stack.deck.get_deployment(dep.id).status) == "DELETED":
            assert dep.id not in fresh.rows
            assert "tick History" in visible_text(fresh.deployments_html.value)
        fresh.history.value = True  # `list all`, one toggle away
        assert dep.id in fresh.rows
    finally:
        fresh.close()


def test_a_pending_request_shows_on_its_row(stack: Stack) -> None:
    """With every change needing approval, the row says its scale waits, then what became of it."""
    assert stack.deck is not None
    command = parse(f"deploy {MU_MODEL} mu units=1 suffix=pr{next(_suffixes)}")
    assert isinstance(command, DeployCommand)
    deck = stack.deck
    ask = deck.request_deploy(command.spec, deck.resolve_actor("jupyter", "alice"))
    deck.approve(ask.id, deck.resolve_actor("jupyter", "bob"))
    dep_id = deck.get_request(ask.id).deployment_id
    assert dep_id is not None
    for _ in range(100):
        deck.refresh()
        if str(deck.get_deployment(dep_id).status) == "RUNNING":
            break
        time.sleep(0.1)
    alice = Deck(deck, user="alice", auto_refresh=False)
    try:
        row = alice.rows[dep_id]
        row.scale_units.value = "2"
        record = row.request_scale()
        assert record is not None, row.status_html.value
        assert f"scale request {record.id}: pending" in visible_text(row.status_html.value)
        assert record.id in alice.approvals.rows  # the same workflow: it waits for approval
        deck.reject(record.id, deck.resolve_actor("jupyter", "bob"), "not now")
        alice.refresh_deployments(sync=False)
        assert f"scale request {record.id}: rejected" in visible_text(row.status_html.value)
    finally:
        alice.close()


def _approve_until_done(stack: Stack, request_id: str) -> None:
    assert stack.deck is not None
    deck = stack.deck
    for who in ("bob", "carol"):
        if str(deck.get_request(request_id).status) == "pending":
            deck.approve(request_id, deck.resolve_actor("jupyter", who))


def test_renew_on_an_upfront_ptu_row_is_a_request_whose_status_shows(stack: Stack) -> None:
    """Renew is offered on upfront PTU rows only; it sends `renew <id> days=… auto_renew=…`
    through the workflow (two approvers for a prepaid order) and the row follows its status."""
    assert stack.deck is not None
    deck = stack.deck
    command = parse(
        f"deploy qwen3-max-2025-09-23 ptu in=10k out=1k billing=upfront days=7 "
        f"suffix=rn{next(_suffixes)}"
    )
    assert isinstance(command, DeployCommand)
    ask = deck.request_deploy(command.spec, deck.resolve_actor("jupyter", "alice"))
    _approve_until_done(stack, ask.id)
    dep_id = deck.get_request(ask.id).deployment_id
    assert dep_id is not None, deck.get_request(ask.id).error
    for _ in range(100):
        deck.refresh()
        if str(deck.get_deployment(dep_id).status) == "RUNNING":
            break
        time.sleep(0.1)
    alice = Deck(deck, user="alice", auto_refresh=False)
    try:
        row = alice.rows[dep_id]
        assert row.renew_button.layout.display is None  # upfront PTU: offered
        hourly = [r for r in alice.rows.values() if r.dep.billing == "hourly"]
        assert all(r.renew_button.layout.display == "none" for r in hourly)
        row.renew_button.click()
        assert row.renew_box.layout.display is None
        assert row.scale_box.layout.display == "none"
        assert row.request_renew() is None  # no days typed: the grammar's words, no request
        assert "how many days" in visible_text(row.status_html.value)
        row.renew_days.value = "1.5"
        assert row.request_renew() is None
        assert "days=1.5" in visible_text(row.status_html.value)
        row.renew_days.value = "3"
        row.renew_auto.value = True
        row.renew_send.click()
        (request,) = row.requests
        assert request.kind == "renew"
        assert request.renew is not None and (request.renew.days, request.renew.auto_renew) == (
            3,
            True,
        )
        assert f"renew request {request.id}: pending" in visible_text(row.status_html.value)
        _approve_until_done(stack, request.id)
        alice.refresh_deployments(sync=False)
        final = str(deck.get_request(request.id).status)
        assert final == "executed", deck.get_request(request.id).error
        assert f"renew request {request.id}: executed" in visible_text(row.status_html.value)
    finally:
        alice.close()
