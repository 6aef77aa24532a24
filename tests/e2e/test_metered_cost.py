"""Metered overflow calls reach the cost query: deploy through the deck, call the model through
the metering client, and `cost` shows the overflow line priced at pay-as-you-go tiers."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from modeldeck.costs import cost_report
from modeldeck.domain import Actor, DeploySpec
from modeldeck.metering import MeteredClient
from modeldeck.store.models import UsageCallRow
from modeldeck.testing import Stack
from modeldeck.timeutil import BEIJING, utcnow

ALICE = Actor(principal="alice", surface="jupyter", roles=["deployer"])
BOB = Actor(principal="bob", surface="slack", roles=["approver"])
# The sandbox clock nearly frozen on a minute boundary: every call lands in one admission minute.
FROZEN = {"clock_speed": 1e-6, "start_time": datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING)}


def test_overflow_calls_metered_then_priced_in_cost(tmp_path: Path) -> None:
    with Stack(deploy_delay_seconds=0, sandbox_options=FROZEN) as stack:
        deck = stack.deck
        assert deck is not None and stack.settings is not None
        spec = DeploySpec(
            model="qwen3-max-2025-09-23", plan="ptu", input_tpm=10000, output_tpm=1000
        )
        request = deck.request_deploy(spec, ALICE, "overflow test")
        outcome = deck.approve(request.id, BOB)
        assert outcome.outcome == "executed", outcome.message
        dep = deck.get_deployment(outcome.request.deployment_id or "")
        assert dep.deployed_model is not None
        key = stack.settings.sandbox.api_key.get_secret_value()
        with MeteredClient(
            f"{stack.sandbox_url}/api/v1", key, store=deck.store, journal_dir=tmp_path / "j"
        ) as client:
            results = [
                client.chat(
                    dep.deployed_model,
                    [{"role": "user", "content": "count the words in this sentence please"}],
                    max_tokens=400,
                )
                for _ in range(6)
            ]
            assert client.flush(10)
        overflowed = [r for r in results if r.overflow]
        assert 0 < len(overflowed) < len(results)  # 1,000 output TPM: the later calls spill over
        with deck.store.session() as session:
            rows = list(session.scalars(select(UsageCallRow)))
        assert len(rows) == 6
        metered = sum((r.cost for r in rows if r.overflow and r.cost is not None), Decimal(0))
        # qwen3-max, <= 32K input tier: $1.2 in / $6 out per million tokens
        expected = sum(
            (
                Decimal(r.input_tokens) * Decimal("1.2") / 1_000_000
                + Decimal(r.output_tokens) * 6 / 1_000_000
                for r in rows
                if r.overflow
            ),
            Decimal(0),
        )
        assert metered == expected > 0
        report = cost_report(deck, dep.id, "all", now=utcnow() + timedelta(minutes=1))
        by_kind = report.data["deployments"][0]["by_kind"]
        assert Decimal(by_kind["overflow"]) == expected
        assert Decimal(by_kind["reserved"]) > 0
        assert Decimal(report.data["total"]) == Decimal(by_kind["overflow"]) + Decimal(
            by_kind["reserved"]
        )
