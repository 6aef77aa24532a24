"""`cost` at scale: the period's overflow calls summed in SQL per tier give, to the cent, what
accruing every stored call gives (SQLite and PostgreSQL), and the number of SQL statements a
cost query runs does not grow with the number of deployments (no query per deployment)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, insert

from modeldeck.billing.accrual import accrue
from modeldeck.deck import Deck
from modeldeck.settings import Settings
from modeldeck.spend import load_histories
from modeldeck.store import Store
from modeldeck.store.models import DeploymentRow, UsageCallRow
from modeldeck.workflow import costs
from tests.spend.test_spend_overview import NOW, T0, _call, _dep, populate

PERIODS = ["month", "today", "30d", "all", "2026-03-05", "last-month"]


def more_calls(store: Store) -> None:
    """A qwen-plus deployment whose calls reason (thinking prices), some flagged, some longer
    than the max input, some failed, some before the month; and calls of an unknown model."""
    with store.session() as s:
        s.execute(insert(DeploymentRow), [_dep("dep_p", model="qwen-plus-2025-12-01")])
        calls = []
        for n in range(300):
            at = NOW - timedelta(hours=n * 2.1, seconds=3 * n)
            c = _call(5_000 + n, "dep_p", at, 500 + n * 600, overflow=n % 4 == 0)
            c["reasoning_tokens"] = 200 if n % 5 == 0 else 0
            c["output_tokens"] = 300 + n
            if n % 11 == 0:
                c["status_code"] = 429
            calls.append(c)
        calls.append(_call(9_000, "nobody", NOW - timedelta(hours=1), 200_000, overflow=True))
        s.execute(insert(UsageCallRow), calls)


def reference_total(deck: Deck, store: Store, period: str) -> dict[str, Decimal]:
    """The old path: every stored call in the history, accrued over the period."""
    start, end = costs.resolve_period(period, NOW)
    with store.session() as s:
        full = load_histories(s)
    return {x.row.id: accrue(x.history, start, end, deck.catalog, deck.rules).total for x in full}


def check_exact(store: Store) -> None:
    populate(store)
    more_calls(store)
    deck = Deck(Settings(), store=store)
    for period in PERIODS:
        expected = reference_total(deck, store, period)
        report = costs.cost_report(deck, None, period, NOW)
        got = {d.id: d.total for d in report.deployments}
        assert got == expected, period
        assert report.total == sum(expected.values())
    month = costs.cost_report(deck, None, "month", NOW)
    by_id = {d.id: d for d in month.deployments}
    assert by_id["dep_p"].by_kind["overflow"] > 0 and by_id["dep_a"].by_kind["overflow"] > 0
    one = costs.cost_report(deck, "dep_p", "month", NOW)
    assert one.total == by_id["dep_p"].total


def test_summed_overflow_is_exact_on_sqlite(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    check_exact(store)
    store.dispose()


@pytest.mark.postgres
def test_summed_overflow_is_exact_on_postgres(postgres_url: str) -> None:
    store = Store(postgres_url)
    check_exact(store)
    store.dispose()


@contextmanager
def counting(store: Store) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def statements_for(tmp_path: Path, n: int) -> int:
    store = Store(f"sqlite:///{tmp_path / f'{n}.db'}")
    with store.session() as s:
        s.execute(insert(DeploymentRow), [_dep(f"d{i}") for i in range(n)])
        s.execute(
            insert(UsageCallRow),
            [_call(i, f"d{i}", T0 + timedelta(hours=i), 140_000, True) for i in range(n)],
        )
    deck = Deck(Settings(), store=store)
    with counting(store) as seen:
        report = costs.cost_report(deck, None, "month", NOW)
    assert len(report.deployments) == n and all(d.by_kind["overflow"] for d in report.deployments)
    store.dispose()
    return len(seen)


def test_a_cost_query_runs_as_many_statements_for_3_or_60_deployments(tmp_path: Path) -> None:
    assert statements_for(tmp_path, 3) == statements_for(tmp_path, 60)
