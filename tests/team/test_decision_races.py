"""Decisions racing on one request, with the interleavings forced rather than hoped for.

Two decks on one store stand for two replicas. The tests wrap the deck's own steps to let a
second approver act at the worst moment of the first one's decision, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from modeldeck.audit import read_audit
from modeldeck.deck import Deck
from modeldeck.domain import DecisionOutcome, DeploySpec, RequestRecord, RequestStatus
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.settings import Settings
from modeldeck.store import repo

PRINCIPALS = [
    {"name": "alice", "jupyter_user": "alice", "roles": ["deployer"]},
    {"name": "bob", "jupyter_user": "bob", "roles": ["approver"]},
    {"name": "carol", "jupyter_user": "carol", "roles": ["approver"]},
]
ONE_UNIT = DeploySpec(model="qwen3-32b", plan="mu", units=1)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


def two_replicas(
    url: str, sandbox: RunningSandbox, tmp_path: Path, **settings: Any
) -> tuple[Deck, Deck]:
    def deck(name: str) -> Deck:
        return Deck(
            Settings(
                data_dir=tmp_path / name,
                database_url=url,
                sandbox={"host": sandbox.server.host, "port": sandbox.server.port},
                principals=PRINCIPALS,
                **settings,
            )
        )

    return deck("a"), deck("b")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("team_db")
    return url


def test_an_approval_that_lost_the_race_leaves_no_vote_and_names_the_winner(
    store_url: str, sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two_replicas(store_url, sandbox, tmp_path)
    try:
        req = a.request_deploy(ONE_UNIT, a.resolve_actor("jupyter", "alice"))
        real_get = a.get_request
        won: list[DecisionOutcome] = []

        def carol_slips_in(request_id: str) -> RequestRecord:
            seen = real_get(request_id)  # bob's replica reads it: pending
            if not won:
                won.append(b.approve(request_id, b.resolve_actor("jupyter", "carol")))
            return seen

        monkeypatch.setattr(a, "get_request", carol_slips_in)
        lost = a.approve(req.id, a.resolve_actor("jupyter", "bob"))
        monkeypatch.undo()

        assert won[0].outcome == "executed"
        assert lost.outcome == "already_decided"
        assert lost.message == f"{req.id} was already executed (by carol); nothing changed."
        final = a.get_request(req.id)
        assert [d.principal for d in final.decisions] == ["carol"]  # bob's vote did not count
        assert [r["action"] for r in read_audit(a.store, subject=req.id)] == [
            "request",
            "approve",
            "executed",
        ]
        assert sandbox.sandbox.created_count() == 1
    finally:
        a.close()
        b.close()


@pytest.mark.postgres
def test_two_approvers_racing_on_a_two_approver_request_reach_the_quorum(
    team_db: str, sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each vote is held open until the other approver has voted too, or waits on a lock.

    Without a lock per request both votes commit unseen by each other ("1 of 2" twice), and the
    request would wait forever with two approvals.
    """
    policy = {"approvers_required": 2}
    a, b = two_replicas(team_db, sandbox, tmp_path, policy=policy)
    database = make_url(team_db).database
    voted: set[str] = set()
    guard = threading.Lock()
    real_add = repo.add_decision

    def someone_waits_on_a_lock(watch: psycopg.Connection[Any]) -> bool:
        row = watch.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (database,),
        ).fetchone()
        return bool(row and row[0])

    def held_vote(session: Any, request_id: str, principal: str, *args: Any) -> bool:
        added = real_add(session, request_id, principal, *args)
        session.flush()
        with guard:
            voted.add(principal)
        deadline = time.monotonic() + 60
        with psycopg.connect(team_db, autocommit=True) as watch:
            while True:
                with guard:
                    both = len(voted) == 2
                if both or someone_waits_on_a_lock(watch):
                    return added
                assert time.monotonic() < deadline, "neither the other vote nor a lock wait came"
                time.sleep(0.01)

    try:
        req = a.request_deploy(ONE_UNIT, a.resolve_actor("jupyter", "alice"))
        assert req.policy.approvers_required == 2
        monkeypatch.setattr(repo, "add_decision", held_vote)
        outcomes: dict[str, DecisionOutcome] = {}

        def approve(deck: Deck, name: str) -> Callable[[], None]:
            def go() -> None:
                outcomes[name] = deck.approve(req.id, deck.resolve_actor("jupyter", name))

            return go

        threads = [
            threading.Thread(target=approve(a, "bob")),
            threading.Thread(target=approve(b, "carol")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        monkeypatch.undo()

        assert sorted(o.outcome for o in outcomes.values()) == ["executed", "recorded"], outcomes
        final = a.get_request(req.id)
        assert final.status == RequestStatus.EXECUTED
        assert sorted(d.principal for d in final.decisions) == ["bob", "carol"]
        assert sandbox.sandbox.created_count() == 1
    finally:
        a.close()
        b.close()
