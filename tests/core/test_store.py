"""The store round-trips domain records on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select

from modeldeck.domain import DeploySpec, Estimate, PolicyDecision, RequestRecord, RequestStatus
from modeldeck.store import Store, repo
from modeldeck.store.models import AuditRow, DeploymentRow


def _request(now: datetime) -> RequestRecord:
    return RequestRecord(
        id=repo.new_id("req"),
        kind="deploy",
        status=RequestStatus.PENDING,
        requester="alice",
        surface="cli",
        reason="launch",
        deploy=DeploySpec(model="qwen3-32b", plan="mu", units=2),
        estimate=Estimate(
            model="qwen3-32b",
            plan="mu",
            mode="instruct",
            billing="hourly",
            total=Decimal("121.3333333333333333333333333"),
            period="91 minutes",
        ),
        policy=PolicyDecision(auto_approve=False, approvers_required=1, rule="one approver"),
        created_at=now,
        expires_at=now + timedelta(hours=24),
    )


def _round_trip(store: Store) -> None:
    beijing = timezone(timedelta(hours=8))
    now = datetime(2026, 3, 1, 22, 30, tzinfo=beijing)
    record = _request(now)
    with store.session() as s:
        repo.insert_request(s, record)
    with store.session() as s:
        back = repo.load_request(s, record.id)
    assert back.deploy == record.deploy
    assert back.estimate is not None and back.estimate.total == record.estimate.total  # type: ignore[union-attr]
    assert back.created_at == now and back.created_at.tzinfo is not None
    assert back.created_at.utcoffset() == timedelta(0)  # stored and returned as UTC
    # compare-and-set: only one of two transitions from PENDING wins
    with store.session() as s:
        first = repo.transition(s, record.id, RequestStatus.PENDING, RequestStatus.APPROVED)
    with store.session() as s:
        second = repo.transition(s, record.id, RequestStatus.PENDING, RequestStatus.REJECTED)
    assert (first, second) == (True, False)
    # one vote per principal
    with store.session() as s:
        assert repo.add_decision(s, record.id, "bob", "slack", "approve", None, now)
        assert not repo.add_decision(s, record.id, "bob", "cli", "approve", None, now)
    with store.session() as s:
        repo.audit(
            s,
            actor="bob",
            surface="slack",
            action="approve",
            subject=record.id,
            cost_estimate=Decimal("0.0126"),
        )
        s.add(
            DeploymentRow(
                id="dep_1",
                deployed_model="qwen3-32b-abc",
                model="qwen3-32b",
                plan="mu",
                status="PENDING",
                units=2,
                created_at=now,
                updated_at=now,
            )
        )
    with store.session() as s:
        row = s.scalar(select(AuditRow))
        assert row is not None and row.cost_estimate == Decimal("0.0126")
        assert repo.find_deployment(s, "QWEN3-32B-ABC").id == "dep_1"


def test_sqlite_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path / 'sub' / 'modeldeck.db'}")
    _round_trip(store)
    assert (tmp_path / "sub" / "modeldeck.db").exists()
    store.dispose()


@pytest.mark.postgres
def test_postgres_round_trip(postgres_url: str) -> None:
    store = Store(postgres_url)
    assert store.dialect == "postgresql"
    _round_trip(store)
    Store(postgres_url).dispose()  # migrating again is a no-op
    tables = set(inspect(store.engine).get_table_names())
    assert {"deployments", "requests", "decisions", "audit_log", "alembic_version"} <= tables
    store.dispose()


def test_naive_datetime_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    record = _request(datetime(2026, 3, 1, tzinfo=UTC))
    record = record.model_copy(update={"created_at": datetime(2026, 3, 1)})
    with pytest.raises(Exception, match="naive datetime"), store.session() as s:
        repo.insert_request(s, record)


@pytest.mark.slow
def test_concurrent_first_starts_on_one_sqlite_file_all_succeed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Several processes opening a fresh store at once (e.g. CLI runs) must not race Alembic."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code = f"from modeldeck.store import Store; Store({url!r}).dispose()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in procs]
    assert all(rc == 0 for rc, _ in results), [err for rc, err in results if rc]
    store = Store(url)
    assert {"deployments", "requests"} <= set(inspect(store.engine).get_table_names())
    store.dispose()
