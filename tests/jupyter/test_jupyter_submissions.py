"""The notebook's buttons send a click id (issue 10): the same form sent twice is one request;
stale and withdrawn requests are named in words.

A double click on a row's "Request scale", or clicking "Deploy" again after the first answer was
lost on its way back (the server stored the request, the notebook saw an error), answers with the
first request instead of making a second one.
"""

from __future__ import annotations

from typing import Any

from modeldeck.domain import Actor, DeploySpec, RequestRecord
from modeldeck.errors import ModeldeckRuntimeError
from modeldeck.grammar import DeployCommand, parse
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck
from modeldeck_jupyter.html import visible_text
from modeldeck_jupyter.render import request_html
from tests.jupyter.test_jupyter_panel import MU_MODEL, PTU_MODEL
from tests.jupyter.test_jupyter_rows import running


class LostFirstAnswer:
    """The stack's deck, but the first deploy's answer never reaches the notebook."""

    def __init__(self, deck: Any) -> None:
        self._deck = deck
        self.sent_keys: list[str | None] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._deck, name)

    def request_deploy(
        self,
        spec: DeploySpec,
        actor: Actor,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> RequestRecord:
        record: RequestRecord = self._deck.request_deploy(
            spec, actor, reason, idempotency_key=idempotency_key
        )
        self.sent_keys.append(idempotency_key)
        if len(self.sent_keys) == 1:
            raise ModeldeckRuntimeError("The connection to the modeldeck server dropped.")
        return record


def test_a_double_click_on_request_scale_makes_one_request(auto_stack: Stack) -> None:
    assert auto_stack.deck is not None
    dep = running(auto_stack)
    panel = Deck(auto_stack.deck, user="bob", auto_refresh=False)
    try:
        panel.refresh_deployments(sync=False)
        row = panel.rows[dep.id]
        row.scale_button.click()
        row.scale_units.value = "2"
        before = len(auto_stack.deck.list_requests())
        row.scale_send.click()
        row.scale_send.click()  # the double click
        made = auto_stack.deck.list_requests()[before:]
        assert [r.kind for r in made] == ["scale"], made
        assert [r.id for r in row.requests] == [made[0].id]
        row.scale_units.value = "3"  # a changed form is a new submission
        row.scale_send.click()
        assert len(auto_stack.deck.list_requests()) == before + 2
    finally:
        panel.close()


def test_deploy_clicked_again_after_a_lost_answer_makes_one_request(stack: Stack) -> None:
    assert stack.deck is not None
    deck = LostFirstAnswer(stack.deck)
    panel = Deck(deck, user="alice", auto_refresh=False)
    try:
        panel.model.value = PTU_MODEL
        panel.plan.value = "ptu"
        panel.reason.value = "the answer got lost"
        before = len(stack.deck.list_requests())
        panel.deploy_button.click()
        assert "connection" in panel.deploy_result_html.value
        panel.deploy_button.click()  # the user tries again
        made = stack.deck.list_requests()[before:]
        assert len(made) == 1, made
        assert panel.last_request is not None and panel.last_request.id == made[0].id
        assert made[0].id in panel.deploy_result_html.value
        assert deck.sent_keys[0] is not None and deck.sent_keys == [deck.sent_keys[0]] * 2
    finally:
        panel.close()


def test_a_rows_request_that_went_stale_says_so_in_words(stack: Stack) -> None:
    """A pending scale whose deployment was unpublished since: the row names the state."""
    assert stack.deck is not None
    deck = stack.deck
    command = parse(f"deploy {MU_MODEL} mu units=1 suffix=stale1")
    assert isinstance(command, DeployCommand)
    made = deck.request_deploy(command.spec, deck.resolve_actor("jupyter", "bob"))
    deck.approve(made.id, deck.resolve_actor("jupyter", "carol"))
    dep_id = deck.get_request(made.id).deployment_id
    assert dep_id is not None
    panel = Deck(deck, user="alice", auto_refresh=False)
    try:
        panel.refresh_deployments(sync=False)
        row = panel.rows[dep_id]
        row.scale_units.value = "2"
        scale = row.request_scale()
        assert scale is not None and str(scale.status) == "pending"
        gone = deck.request_unpublish(dep_id, deck.resolve_actor("jupyter", "bob"))
        if str(gone.status) == "pending":
            deck.approve(gone.id, deck.resolve_actor("jupyter", "carol"))
        deck.list_requests()  # the sweep marks the scale stale
        row.refresh_requests()
        shown = visible_text(row.status_html.value)
        assert f"scale request {scale.id}: stale, no longer approvable" in shown
        assert "unpublished since the request was made" in shown
    finally:
        panel.close()


def test_a_withdrawn_deploy_says_so_in_words(stack: Stack) -> None:
    assert stack.deck is not None
    panel = Deck(stack.deck, user="alice", auto_refresh=False)
    try:
        panel.model.value = PTU_MODEL
        panel.plan.value = "ptu"
        panel.reason.value = "withdrawn soon"
        panel.deploy_button.click()
        assert panel.last_request is not None
        withdrawn = stack.deck.withdraw(
            panel.last_request.id, stack.deck.resolve_actor("jupyter", "alice")
        )
        shown = visible_text(request_html(withdrawn.request))
        assert f"Request {withdrawn.request.id}" in shown
        assert "was withdrawn by its requester" in shown
    finally:
        panel.close()
