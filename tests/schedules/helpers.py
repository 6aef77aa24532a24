"""Shared steps of the schedule tests: a deck on the sandbox, a running deployment, approvals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modeldeck.deck import Deck
from modeldeck.domain import DeploySpec, RequestRecord, RequestStatus
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.settings import Settings
from tests.workflow.wfhelpers import PRINCIPALS

PTU = DeploySpec(model="qwen3-max-2025-09-23", plan="ptu", input_tpm=10000, output_tpm=1000)
MU = DeploySpec(model="qwen3-32b", plan="mu", units=1)


def deck_for(sb: RunningSandbox, data_dir: Path, **settings: Any) -> Deck:
    """A deck on its own store (or `database_url`) pointed at the sandbox."""
    settings.setdefault("principals", PRINCIPALS)
    return Deck(
        Settings(
            data_dir=data_dir, sandbox={"host": sb.server.host, "port": sb.server.port}, **settings
        )
    )


def through(deck: Deck, req: RequestRecord) -> RequestRecord:
    """Approve until the policy's quorum is met (bob, then carol)."""
    for who in ("U0BOB", "U0CAROL"):
        if deck.get_request(req.id).status != RequestStatus.PENDING:
            break
        deck.approve(req.id, deck.resolve_actor("slack", who))
    return deck.get_request(req.id)


def deployed(deck: Deck, sb: RunningSandbox, spec: DeploySpec = PTU) -> str:
    """A running deployment of `spec`, made through the workflow; its id."""
    alice = deck.resolve_actor("jupyter", "alice")
    done = through(deck, deck.request_deploy(spec, alice))
    assert done.status == RequestStatus.EXECUTED, done.error
    sb.advance(5)
    deck.refresh()
    return done.deployment_id or ""


def settled(deck: Deck, sb: RunningSandbox) -> None:
    """Let Model Studio finish the capacity operation in flight, and sync the store with it
    (a pass at the real time: the changes tests run ahead of it are not due then)."""
    sb.advance(5)
    deck.refresh()
