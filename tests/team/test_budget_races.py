"""The auto-approve window budget holds across replicas (issue 10): racing auto-approvals on
several decks over one store never add up past the budget, on SQLite and PostgreSQL.

The interleaving is forced: every replica reads the window's spend before any of them stores its
request (each waits at a barrier after its first read). Without the store's budget lock they all
see the same room and all auto-approve; with it they re-check one at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, closing
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modeldeck.deck import Deck
from modeldeck.default_plugins.policy import cost_per_day
from modeldeck.domain import DeploySpec, RequestRecord
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.settings import Settings
from modeldeck.store import requests as request_rows

PRINCIPALS = [
    {"name": "alice", "jupyter_user": "alice", "roles": ["deployer"]},
    {"name": "pat", "jupyter_user": "pat", "roles": ["deployer"]},
]
SMALL = DeploySpec(model="qwen3-max-2025-09-23", plan="ptu", input_tpm=10000, output_tpm=1000)
BUDGET = Decimal("100")  # room for two of SMALL's $37.44/day, not three
REPLICAS = 6


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


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


def replicas(
    url: str, sandbox: RunningSandbox, tmp_path: Path, policy: dict[str, Any]
) -> list[Deck]:
    return [
        Deck(
            Settings(
                data_dir=tmp_path / f"replica{n}",
                database_url=url,
                sandbox={"host": sandbox.server.host, "port": sandbox.server.port},
                principals=PRINCIPALS,
                policy=policy,
            )
        )
        for n in range(REPLICAS)
    ]


def race(decks: list[Deck], who: list[str], monkeypatch: pytest.MonkeyPatch) -> list[RequestRecord]:
    """Each replica requests one SMALL deploy; all read the window before any stores."""
    everyone_read = threading.Barrier(len(decks))
    local = threading.local()
    real = request_rows.created_since

    def read_then_wait(session: Any, since: datetime, statuses: Any = None) -> list[RequestRecord]:
        found = real(session, since, statuses)
        if not getattr(local, "waited", False):  # the policy's first look at the window
            local.waited = True
            everyone_read.wait(timeout=120)
        return found

    monkeypatch.setattr(request_rows, "created_since", read_then_wait)
    made: list[RequestRecord] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def submit(n: int) -> None:
        try:
            deck = decks[n]
            spec = SMALL.model_copy(update={"suffix": f"race{n}"})
            record = deck.request_deploy(spec, deck.resolve_actor("jupyter", who[n]))
            with guard:
                made.append(record)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(len(decks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.undo()
    assert not errors, errors
    return made


def auto_approved_per_day(records: list[RequestRecord]) -> Decimal:
    return sum((cost_per_day(r.estimate) for r in records if r.policy.auto_approve), Decimal(0))


def test_racing_replicas_never_auto_approve_past_a_requesters_budget(
    store_url: str, sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = {"auto_approve_below_usd_per_day": 100, "auto_approve_budget_usd_per_day": BUDGET}
    with ExitStack() as stack:
        decks = [
            stack.enter_context(closing(d)) for d in replicas(store_url, sandbox, tmp_path, policy)
        ]
        made = race(decks, ["alice"] * REPLICAS, monkeypatch)
        stored = decks[0].list_requests()
    assert len(made) == len(stored) == REPLICAS
    assert auto_approved_per_day(stored) <= BUDGET
    assert sum(r.policy.auto_approve for r in stored) == 2  # the budget's room, used once
    held = [r for r in stored if not r.policy.auto_approve]
    assert all("alice's auto-approve budget of $100/day" in r.policy.rule for r in held)


def test_racing_replicas_never_auto_approve_past_the_workspace_budget(
    store_url: str, sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = {
        "auto_approve_below_usd_per_day": 100,
        "workspace_auto_approve_budget_usd_per_day": BUDGET,
    }
    with ExitStack() as stack:
        decks = [
            stack.enter_context(closing(d)) for d in replicas(store_url, sandbox, tmp_path, policy)
        ]
        made = race(decks, ["alice", "pat"] * (REPLICAS // 2), monkeypatch)
        stored = decks[0].list_requests()
    assert len(made) == REPLICAS
    assert auto_approved_per_day(stored) <= BUDGET
    assert sum(r.policy.auto_approve for r in stored) == 2
