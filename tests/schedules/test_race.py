"""Two reconcilers on one store (SQLite file, or the team's PostgreSQL) run each scheduled change
once: one claimed run row, one scale request, one audit record of each step."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from contextlib import ExitStack, closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from modeldeck.deck import Deck
from modeldeck.domain import RequestStatus
from modeldeck.grammar import parse
from modeldeck.reconciler import Reconciler
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.schedules.calendar import Change, next_change
from modeldeck.schedules.spec import ScheduleSpec
from modeldeck.store import Store
from modeldeck.timeutil import utcnow
from modeldeck.workflow import schedules
from tests.schedules.helpers import deck_for, deployed, settled, through

# Neither level is the deployment's own (10,000 / 1,000 TPM): every change is a real scale,
# whatever the time of day the test runs at (the first change due may be either).
OFFICE = 'in=40000 out=4000 at="mon-fri 09:00" in=20000 out=2000 at="mon-fri 19:00"'


def _changes(spec: ScheduleSpec, count: int) -> list[Change]:
    out: list[Change] = []
    after = utcnow()
    while len(out) < count:
        found = next_change(spec, after)
        assert found is not None
        out.append(found)
        after = found.at
    return out


def _at_once(decks: list[Deck], step: Callable[[Deck], object]) -> None:
    barrier = threading.Barrier(len(decks))
    errors: list[BaseException] = []

    def run(deck: Deck) -> None:
        try:
            barrier.wait()
            step(deck)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in decks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def _drive_at(deck: Deck, at: datetime) -> object:
    return schedules.drive_schedules(deck, at)


def _race(decks: list[Deck], sandbox: RunningSandbox) -> None:
    first_deck = decks[0]
    dep_id = deployed(first_deck, sandbox)
    alice = first_deck.resolve_actor("jupyter", "alice")
    req = through(first_deck, first_deck.run(parse(f"schedule {dep_id} {OFFICE}"), alice).request)  # type: ignore[attr-defined]
    assert req.status == RequestStatus.EXECUTED, req.error
    schedule_id = req.refs["schedule"]
    assert req.schedule is not None
    changes = _changes(req.schedule, 4)
    # whole reconciler passes at the first change, then the schedule step alone at the others
    _at_once(decks, lambda d: Reconciler(d).run_once(now=changes[0].at))
    settled(first_deck, sandbox)
    _at_once(decks, lambda d: Reconciler(d).run_once(now=changes[0].at + timedelta(seconds=20)))
    for change in changes[1:]:
        settled(first_deck, sandbox)
        _at_once(decks, functools.partial(_drive_at, at=change.at))
    actions = [a["action"] for a in first_deck.audit(subject=schedule_id)]
    assert actions.count("scheduled_change_started") == len(changes), actions
    assert actions.count("scheduled_change_applied") == len(changes), actions
    assert "schedule_paused" not in actions  # the other replica's change is no hand change
    scales = [r for r in first_deck.list_requests() if r.kind == "scale"]
    assert len(scales) == len(changes)
    assert all(r.status == RequestStatus.EXECUTED for r in scales)
    dep = decks[1].get_deployment(dep_id)
    last = changes[-1].level
    assert (dep.input_tpm, dep.output_tpm) == (last.input_tpm, last.output_tpm)


def test_two_reconcilers_on_one_sqlite_file_apply_each_change_once(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with ExitStack() as stack:
        decks = [
            stack.enter_context(closing(deck_for(sandbox, tmp_path / f"d{i}", database_url=url)))
            for i in range(2)
        ]
        _race(decks, sandbox)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_reconcilers_on_postgres_apply_each_change_once(
    sandbox: RunningSandbox, tmp_path: Path, postgres_url: str
) -> None:
    Store(postgres_url).dispose()  # migrate once up front
    with ExitStack() as stack:
        decks = [
            stack.enter_context(
                closing(deck_for(sandbox, tmp_path / f"d{i}", database_url=postgres_url))
            )
            for i in range(3)
        ]
        _race(decks, sandbox)
