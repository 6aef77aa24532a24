"""The reconciler against the sandbox over HTTP: imports, drift, status hooks, timelines.

The PostgreSQL test runs two reconcilers (separate engines, as two replicas would) at the same
time, many rounds, and checks every hook fired exactly once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from modeldeck import plugins
from modeldeck.deck import Deck
from modeldeck.domain import Actor, DeploySpec
from modeldeck.hookspecs import hookimpl
from modeldeck.reconciler import Reconciler
from modeldeck.sandbox.testing import running_sandbox
from modeldeck.settings import Settings
from modeldeck.store import Store

ALICE = Actor(principal="alice", surface="cli", roles=["deployer"])
BOB = Actor(principal="bob", surface="cli", roles=["approver"])


class HookLog:
    """A temporary plugin counting what the reconciler announces."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: Counter[tuple[str, str | None, str]] = Counter()
        self.timeline: Counter[tuple[str, str]] = Counter()

    @hookimpl
    def deployment_status_changed(self, deployment, old_status, new_status, deck):  # type: ignore[no-untyped-def]
        with self.lock:
            self.status[(deployment.deployed_model, old_status, new_status)] += 1

    @hookimpl
    def upfront_timeline(self, deployment, order, event, deck):  # type: ignore[no-untyped-def]
        with self.lock:
            self.timeline[(order["id"], event)] += 1


@pytest.fixture
def hooks() -> Iterator[HookLog]:
    log = HookLog()
    pm = plugins.get_plugin_manager()
    pm.register(log, name="hook-log")
    yield log
    pm.unregister(log)


def _deck(url: str, sandbox_url: str, tmp_path: Any) -> Deck:
    return Deck(
        Settings(
            data_dir=tmp_path,
            database_url=url,
            provider={"base_url": sandbox_url, "api_key": "sk-sandbox"},
        )
    )


def _create_at_console(sb: Any, suffix: str) -> str:
    """A deployment made outside modeldeck (the console), straight at the sandbox API."""
    info = sb.client().create_deployment(
        {
            "model_name": "qwen3-32b",
            "plan": "mu",
            "capacity": 1,
            "deploy_spec": "MU1",
            "billing_method": "POST_PAY",
            "suffix": suffix,
        }
    )
    return str(info.deployed_model)


def test_console_deployment_is_imported_and_followed(hooks: HookLog, tmp_path: Any) -> None:
    with running_sandbox() as sb:
        deck = _deck(f"sqlite:///{tmp_path / 'r.db'}", sb.base_url, tmp_path)
        code = _create_at_console(sb, "console")
        report = Reconciler(deck).run_once()
        assert len(report.imported) == 1
        dep = deck.get_deployment(code)
        assert dep.imported and dep.plan == "mu" and dep.units == 1
        assert Reconciler(deck).run_once().imported == []  # idempotent
        sb.wait_for_status(sb.client(), code, "RUNNING")
        Reconciler(deck).run_once()
        assert deck.get_deployment(code).status == "RUNNING"
        assert hooks.status[(code, None, "PENDING")] == 1
        assert hooks.status[(code, "PENDING", "RUNNING")] == 1
        # drift: scaled in the console; the store follows Model Studio and says so
        sb.client().scale_deployment(code, capacity=3)
        sb.wait_for_status(sb.client(), code, "RUNNING")
        report = Reconciler(deck).run_once()
        assert report.drift and report.drift[0]["provider"] == {"units": 3}
        assert deck.get_deployment(code).units == 3
        # unpublished in the console: the store marks it DELETED, once
        sb.client().delete_deployment(code)
        for _ in range(100):
            if Reconciler(deck).run_once() and deck.get_deployment(code).status == "DELETED":
                break
            time.sleep(0.05)
        assert deck.get_deployment(code).status == "DELETED"
        assert (
            sum(n for (c, _, new), n in hooks.status.items() if c == code and new == "DELETED") == 1
        )
        deck.close()


def test_upfront_timeline_events_fire_once_each(hooks: HookLog, tmp_path: Any) -> None:
    with running_sandbox() as sb:
        deck = _deck(f"sqlite:///{tmp_path / 't.db'}", sb.base_url, tmp_path)
        spec = DeploySpec(
            model="qwen3-max-2025-09-23",
            plan="ptu",
            input_tpm=10000,
            output_tpm=1000,
            billing="upfront",
            days=1,
        )
        request = deck.request_deploy(spec, ALICE)
        assert request.policy.approvers_required == 2  # upfront: two approvers by default
        deck.approve(request.id, BOB)
        outcome = deck.approve(
            request.id, Actor(principal="carol", surface="cli", roles=["approver"])
        )
        assert outcome.outcome == "executed"
        from sqlalchemy import select

        from modeldeck.store.models import OrderRow

        with deck.store.session() as s:
            order = s.scalar(select(OrderRow))
        assert order is not None and order.amount == Decimal("18.72")  # 13.32 + 5.40, one day
        assert order.stops_at - order.expires_at == timedelta(hours=2)
        reconciler = Reconciler(deck)
        before = order.expires_at - timedelta(hours=23)
        reconciler.run_once(now=before)
        assert hooks.timeline == Counter({(order.id, "expires_in_24h"): 1})
        after_release = order.released_at + timedelta(minutes=1)
        reconciler.run_once(now=after_release)
        reconciler.run_once(now=after_release)
        assert hooks.timeline == Counter(
            {(order.id, e): 1 for e in ("expires_in_24h", "expires_in_2h", "stopped", "released")}
        )
        deck.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_reconcilers_on_postgres_fire_each_hook_once(
    hooks: HookLog, postgres_url: str, tmp_path: Any
) -> None:
    with running_sandbox() as sb:
        Store(postgres_url).dispose()  # migrate once up front
        decks = [_deck(postgres_url, sb.base_url, tmp_path) for _ in range(2)]
        codes = [_create_at_console(sb, f"r{i}") for i in range(4)]
        for _ in range(15):  # many rounds while the deployments go PENDING -> RUNNING
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def run(
                deck: Deck, barrier: threading.Barrier = barrier, errors: list[Any] = errors
            ) -> None:
                try:
                    barrier.wait()
                    Reconciler(deck).run_once()
                except BaseException as exc:  # surfaced below
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(d,)) for d in decks]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors
            time.sleep(0.03)
        for code in codes:
            sb.wait_for_status(sb.client(), code, "RUNNING")
        Reconciler(decks[0]).run_once()
        Reconciler(decks[1]).run_once()
        for code in codes:
            assert (
                hooks.status[(code, None, "PENDING")] + hooks.status[(code, None, "RUNNING")] == 1
            )
            assert decks[1].get_deployment(code).status == "RUNNING"
        assert all(n == 1 for n in hooks.status.values()), hooks.status
        assert len(decks[0].list_deployments()) == 4
        for deck in decks:
            deck.close()
