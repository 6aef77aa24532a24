"""The Approvals tab against a real stack, in-process and over the server: the deck's rules hold."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator

import pytest

from modeldeck.domain import DeploySpec, RequestRecord, RequestStatus
from modeldeck.errors import UserError
from modeldeck.grammar import DeployCommand, EstimateCommand, parse
from modeldeck.money import format_amount
from modeldeck.testing import Stack
from modeldeck.tokens import create_token
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter.html import visible_text
from modeldeck_jupyter.render import esc

MU_MODEL = "qwen3-32b"
PanelFor = Callable[[str], DeckPanel]
_suffixes = itertools.count(1)


def deploy_spec(words: str) -> DeploySpec:
    """The DeploySpec of a `deploy ...` line, as the grammar reads it."""
    command = parse(words)
    assert isinstance(command, DeployCommand | EstimateCommand)
    return command.spec


@pytest.fixture(params=["in-process", "remote"])
def panel_for(request: pytest.FixtureRequest, stack: Stack) -> Iterator[PanelFor]:
    """Open panels for notebook users, on the stack's deck or through its server's REST API."""
    opened: list[DeckPanel] = []

    def make(user: str) -> DeckPanel:
        if request.param == "remote":
            assert stack.deck is not None  # the server acts as the token's principal
            token = create_token(stack.deck.store, user)[1]
            panel = Deck(server=stack.server_url, user=user, token=token).wait()
        else:
            assert stack.deck is not None
            panel = Deck(stack.deck, user=user)
        assert panel.problem is None, panel.problem
        opened.append(panel)
        return panel

    yield make
    for panel in opened:
        panel.close()


def ask(stack: Stack, user: str, words: str, reason: str | None = None) -> RequestRecord:
    """A deploy request made by `user` from a notebook (straight on the deck).

    Each gets its own suffix: Model Studio refuses a second deployment of the same name.
    """
    assert stack.deck is not None
    actor = stack.deck.resolve_actor("jupyter", user)
    spec = deploy_spec(f"{words} suffix=a{next(_suffixes)}")
    return stack.deck.request_deploy(spec, actor, reason)


def test_queue_shows_summary_requester_estimate_policy_and_needs(
    panel_for: PanelFor, stack: Stack
) -> None:
    request = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1", "launch week")
    bob = panel_for("bob")
    row = bob.approvals.rows[request.id]
    html = row.info.value
    assert esc(request.summary) in html
    assert "<b class='modeldeck-requester'>alice</b>" in html
    assert "launch week" in html
    assert request.estimate is not None
    assert format_amount(request.estimate.total, request.estimate.currency) in visible_text(html)
    assert esc(request.policy.rule) in html
    assert "needs 1 more approval (0 of 1)" in html
    assert "Approvals" in bob.tabs.titles
    assert "waiting for a decision" in bob.approvals.status_html.value


def test_requester_gets_the_decks_refusal(panel_for: PanelFor, stack: Stack) -> None:
    request = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1")
    alice = panel_for("alice")
    alice.approvals.rows[request.id].approve_button.click()
    assert stack.deck is not None
    with pytest.raises(UserError) as refused:  # what the deck says to anyone asking this
        stack.deck.approve(request.id, stack.deck.resolve_actor("jupyter", "alice"))
    assert "cannot approve" in str(refused.value)
    assert esc(str(refused.value)) in alice.approvals.result_html.value
    assert "modeldeck-error" in alice.approvals.result_html.value
    assert "Traceback" not in alice.approvals.result_html.value
    assert alice.approvals.last_outcome is None
    assert stack.deck.get_request(request.id).status == RequestStatus.PENDING
    assert request.id in alice.approvals.rows  # still waiting for someone else


def test_approve_executes_and_the_request_leaves_the_queue(
    panel_for: PanelFor, stack: Stack
) -> None:
    request = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1")
    bob = panel_for("bob")
    bob.approvals.rows[request.id].approve_button.click()
    outcome = bob.approvals.last_outcome
    assert outcome is not None and outcome.outcome == "executed", bob.approvals.result_html.value
    assert esc(outcome.message) in bob.approvals.result_html.value
    assert "modeldeck-outcome-executed" in bob.approvals.result_html.value
    assert request.id not in bob.approvals.rows
    assert stack.deck is not None
    stored = stack.deck.get_request(request.id)
    assert stored.status == RequestStatus.EXECUTED
    assert [(d.principal, d.surface, d.verdict) for d in stored.decisions] == [
        ("bob", "jupyter", "approve")
    ]
    assert stored.deployment_id in {d.id for d in bob.deployments}  # the table followed


def test_two_approvers_recorded_then_executed(panel_for: PanelFor, stack: Stack) -> None:
    # an upfront order through the API (monthly MU packages are bought in the console)
    upfront = "deploy qwen3-max-2025-09-23 ptu billing=upfront in=20000 out=2000 days=7"
    request = ask(stack, "alice", upfront)
    assert request.policy.approvers_required == 2
    bob, carol = panel_for("bob"), panel_for("carol")
    bob.approvals.approve(request.id)
    first = bob.approvals.last_outcome
    assert first is not None and first.outcome == "recorded"
    assert "(1 of 2)" in bob.approvals.result_html.value
    assert "needs 1 more approval (1 of 2)" in bob.approvals.rows[request.id].info.value
    assert "approved so far by bob" in bob.approvals.rows[request.id].info.value
    bob.approvals.rows[request.id].approve_button.click()  # bob again: the deck says no
    again = bob.approvals.last_outcome
    assert again is not None and again.outcome == "already_decided"
    assert "already voted" in bob.approvals.result_html.value
    carol.approvals.refresh()
    carol.approvals.rows[request.id].approve_button.click()
    last = carol.approvals.last_outcome
    assert last is not None and last.outcome == "executed", carol.approvals.result_html.value
    assert stack.deck is not None
    assert stack.deck.get_request(request.id).status == RequestStatus.EXECUTED


def test_reject_sends_the_typed_reason(panel_for: PanelFor, stack: Stack) -> None:
    request = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1")
    bob = panel_for("bob")
    row = bob.approvals.rows[request.id]
    row.reason.value = "  use the shared deployment <instead>  "
    row.reject_button.click()
    outcome = bob.approvals.last_outcome
    assert outcome is not None and outcome.outcome == "rejected"
    assert "modeldeck-outcome-rejected" in bob.approvals.result_html.value
    assert stack.deck is not None
    stored = stack.deck.get_request(request.id)
    assert stored.status == RequestStatus.REJECTED
    assert [(d.principal, d.reason) for d in stored.decisions] == [
        ("bob", "use the shared deployment <instead>")
    ]
    assert request.id not in bob.approvals.rows


def test_a_stale_row_gets_already_decided(panel_for: PanelFor, stack: Stack) -> None:
    request = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1")
    bob, carol = panel_for("bob"), panel_for("carol")
    assert request.id in bob.approvals.rows and request.id in carol.approvals.rows
    carol.approvals.reject(request.id, "not this week")
    bob.approvals.rows[request.id].approve_button.click()  # bob's row was shown before
    outcome = bob.approvals.last_outcome
    assert outcome is not None and outcome.outcome == "already_decided"
    assert "already rejected (by carol)" in bob.approvals.result_html.value
    assert request.id not in bob.approvals.rows  # the queue refreshed after the answer
    assert stack.deck is not None
    assert stack.deck.get_request(request.id).status == RequestStatus.REJECTED


def test_a_typed_reason_survives_refreshes(stack: Stack) -> None:
    request = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1")
    assert stack.deck is not None
    bob = Deck(stack.deck, user="bob")
    try:
        row = bob.approvals.rows[request.id]
        row.reason.value = "half typed"
        ask(stack, "alice", f"deploy {MU_MODEL} mu units=2")
        bob.approvals.refresh_button.click()
        assert bob.approvals.rows[request.id] is row
        assert row.reason.value == "half typed"
        assert len(bob.approvals.rows_box.children) == len(stack.deck.list_requests("pending"))
    finally:
        bob.close()


def test_the_poller_refreshes_the_queue(stack: Stack) -> None:
    assert stack.deck is not None
    bob = Deck(stack.deck, user="bob")
    seen = threading.Event()
    wanted: list[str] = []
    original = bob.approvals.refresh

    def watching() -> list[RequestRecord] | None:
        pending = original()
        if wanted and wanted[0] in bob.approvals.rows:
            seen.set()
        return pending

    bob.approvals.refresh = watching  # type: ignore[method-assign]
    try:
        bob.start_auto_refresh(0.05)
        wanted.append(ask(stack, "alice", f"deploy {MU_MODEL} mu units=3").id)
        assert seen.wait(30), "the auto-refresh never showed the new request"
    finally:
        bob.close()


def test_a_viewer_is_told_they_may_not_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    principals = [
        {"name": "alice", "jupyter_user": "alice", "roles": ["deployer"]},
        {"name": "vic", "jupyter_user": "vic", "roles": ["viewer"]},
    ]
    with Stack(principals=principals) as guarded:
        request = ask(guarded, "alice", f"deploy {MU_MODEL} mu units=1")
        assert guarded.deck is not None
        monkeypatch.setenv("JUPYTERHUB_USER", "vic")  # in-process, identity is the kernel's
        vic = Deck(guarded.deck)
        try:
            row = vic.approvals.rows[request.id]
            row.approve_button.click()
            with pytest.raises(UserError) as denied:
                guarded.deck.approve(request.id, guarded.deck.resolve_actor("jupyter", "vic"))
            assert esc(str(denied.value)) in vic.approvals.result_html.value
            row.reject_button.click()
            assert esc(str(denied.value)) in vic.approvals.result_html.value
            assert guarded.deck.get_request(request.id).status == RequestStatus.PENDING
        finally:
            vic.close()


def test_a_request_from_the_form_joins_the_queue_at_once(stack: Stack) -> None:
    assert stack.deck is not None
    alice = Deck(stack.deck, user="alice")
    try:
        alice.model.value = MU_MODEL
        alice.units.value = "4"
        alice.reason.value = "queued from the form"
        record = alice.request_deploy()
        assert record is not None, alice.deploy_result_html.value
        assert record.id in alice.approvals.rows  # no refresh needed
        assert "queued from the form" in alice.approvals.rows[record.id].info.value
    finally:
        alice.close()
