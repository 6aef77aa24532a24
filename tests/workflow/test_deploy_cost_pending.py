"""A deploy's store work does not grow with the number of pending requests (issue 15): the SQL
statements of one `request_deploy` and of listing pending requests (the approvals view, the
Slack home, every decision's expiry check) are the same with 10 or 500 pending, and expiry
finds requests past their TTL through the (status, expires_at) index instead of scanning."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, insert

from modeldeck.deck import Deck
from modeldeck.domain import Actor, DeploySpec
from modeldeck.settings import Settings
from modeldeck.store.models import RequestRow
from modeldeck.timeutil import utcnow

SPEC = DeploySpec(model="qwen3-32b", plan="mu", units=1)
ALICE = Actor(principal="alice", surface="cli", roles=["deployer"])


@contextmanager
def counting(deck: Deck) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(deck.store.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(deck.store.engine, "before_cursor_execute", count)


def statements_with_pending(tmp_path: Path, pending: int) -> list[str]:
    deck = Deck(Settings(data_dir=tmp_path / str(pending)))
    now = utcnow()
    with deck.store.session() as s:
        s.execute(
            insert(RequestRow),
            [
                {
                    "id": f"req_old{i}",
                    "kind": "deploy",
                    "status": "pending",
                    "requester": "bob",
                    "surface": "cli",
                    "payload": {"deploy": SPEC.model_dump(mode="json")},
                    "policy": {"auto_approve": False, "approvers_required": 1, "rule": "x"},
                    "refs": {},
                    "created_at": now,
                    "expires_at": now + timedelta(days=1),
                }
                for i in range(pending)
            ],
        )
    deck.request_deploy(SPEC, ALICE, "warm up")  # first use builds caches
    with counting(deck) as seen:
        req = deck.request_deploy(SPEC, ALICE, "measured")
    assert req.status == "pending"
    deck.close()
    return seen


def test_request_deploy_statements_do_not_grow_with_pending_requests(tmp_path: Path) -> None:
    few = statements_with_pending(tmp_path, 10)
    many = statements_with_pending(tmp_path, 500)
    assert len(few) == len(many), (len(few), len(many))


def test_listing_pending_requests_runs_as_many_statements_for_10_or_500(tmp_path: Path) -> None:
    counts = []
    for pending in (10, 500):
        deck = Deck(Settings(data_dir=tmp_path / f"list{pending}"))
        with deck.store.session() as s:
            s.execute(
                insert(RequestRow),
                [
                    {
                        "id": f"req_p{i}",
                        "kind": "deploy",
                        "status": "pending",
                        "requester": "bob",
                        "surface": "cli",
                        "payload": {"deploy": SPEC.model_dump(mode="json")},
                        "policy": {"auto_approve": False, "approvers_required": 1, "rule": "x"},
                        "refs": {},
                        "created_at": utcnow(),
                        "expires_at": utcnow() + timedelta(days=1),
                    }
                    for i in range(pending)
                ],
            )
        with counting(deck) as seen:
            listed = deck.list_requests("pending")
        assert len(listed) == pending
        counts.append(len(seen))
        deck.close()
    assert counts[0] == counts[1], counts


def test_expiring_uses_the_status_and_ttl_index(tmp_path: Path) -> None:
    deck = Deck(Settings(data_dir=tmp_path))
    with deck.store.engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM requests WHERE status = 'pending' "
            "AND expires_at < '2026-01-01'"
        ).all()
    deck.close()
    assert "ix_requests_status_expires_at" in " ".join(str(r) for r in plan)
