"""PTU bursts over real HTTP: overflow headers, priced overflow records, 429 when disabled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from modeldeck.metering import minute_stats
from modeldeck.provider import ThrottlingError
from modeldeck.store.models import UsageCallRow
from modeldeck.timeutil import utcnow
from tests.metering.meterhelpers import Deck, user, words


def stored_calls(deck: Deck, deployed_model: str) -> list[UsageCallRow]:
    with deck.store.session() as session:
        return list(
            session.scalars(
                select(UsageCallRow)
                .where(UsageCallRow.deployed_model == deployed_model)
                .order_by(UsageCallRow.id)
            )
        )


@pytest.mark.slow
def test_burst_over_purchased_tpm_overflows_and_is_priced_at_payg(deck: Deck) -> None:
    """Worked example 7: three overflow calls of 1,000 in / 500 out on qwen3-max → $0.0126."""
    dm = deck.deploy_ptu(input_tpm=10_000, output_tpm=1_000)
    # catalog=None: the client loads modeldeck's catalog itself (plugins and overrides).
    with deck.client(catalog=None) as client:
        results = [client.chat(dm, user(words(1000)), max_tokens=500) for _ in range(5)]
        assert client.flush(30)

    # 500 + 500 output tokens fill the purchased 1,000 output TPM; the rest overflows.
    assert [r.overflow for r in results] == [False, False, True, True, True]
    assert all(r.headers.get("x-dashscope-ptu-overflow") == "true" for r in results[2:])
    assert all("x-dashscope-ptu-overflow" not in r.headers for r in results[:2])

    rows = stored_calls(deck, dm)
    assert [r.call_id for r in rows] == [r.call_id for r in results]
    assert [(r.input_tokens, r.output_tokens) for r in rows] == [(1000, 500)] * 5
    assert [r.overflow for r in rows] == [False, False, True, True, True]
    assert [r.cost for r in rows[:2]] == [Decimal(0), Decimal(0)]
    # ≤ 32K tier: $1.2 per million input, $6 per million output.
    assert [r.cost for r in rows[2:]] == [Decimal("0.0042")] * 3
    assert sum((r.cost or Decimal(0) for r in rows[2:]), Decimal(0)) == Decimal("0.0126")
    assert all(r.model == "qwen3-max-2025-09-23" and r.mode == "instruct" for r in rows)
    assert all(r.status_code == 200 and r.error is None and r.request_id for r in rows)
    assert all(r.latency_ms > 0 for r in rows)

    [minute] = minute_stats(deck.store, dm, utcnow() - timedelta(hours=1), utcnow())
    assert (minute.calls, minute.overflow_calls, minute.errors) == (5, 3, 0)
    assert (minute.overflow_input_tokens, minute.overflow_output_tokens) == (3000, 1500)
    assert minute.overflow_cost == Decimal("0.0126")
    assert minute.tokens == 5 * 1500


def test_overflow_is_priced_at_the_tier_of_its_input_length(deck: Deck) -> None:
    """40,000 input tokens fall in the 32K–128K tier: $2.4 / $12 per million for all tokens."""
    dm = deck.deploy_ptu(input_tpm=10_000, output_tpm=1_000)
    with deck.client() as client:
        result = client.chat(dm, user(words(40_000)), max_tokens=10)
    assert result.overflow  # more input than the purchased input TPM
    assert result.record.input_tokens == 40_000
    assert result.cost == Decimal("0.09612")  # (40,000 × 2.4 + 10 × 12) / 1,000,000


def test_overflow_disabled_refuses_with_429_recorded_as_an_error(deck: Deck) -> None:
    dm = deck.deploy_ptu(output_tpm=1_000, overflow=False)
    with deck.client() as client:
        first = client.chat(dm, user(words(100)), max_tokens=500)
        second = client.chat(dm, user(words(100)), max_tokens=500)
        with pytest.raises(ThrottlingError) as caught:
            client.chat(dm, user(words(100)), max_tokens=500)
        assert client.flush(30)
    assert not first.overflow and not second.overflow
    assert caught.value.status_code == 429
    assert caught.value.retry_after is not None

    rows = stored_calls(deck, dm)
    assert len(rows) == 3
    refused = rows[-1]
    assert refused.status_code == 429
    assert refused.error is not None and "insufficient_quota" in refused.error
    assert not refused.overflow
    assert refused.cost == Decimal(0)  # refused calls are not billed
    assert (refused.input_tokens, refused.output_tokens) == (0, 0)
    assert refused.request_id == caught.value.request_id

    [minute] = minute_stats(deck.store, dm, utcnow() - timedelta(hours=1), utcnow())
    assert (minute.calls, minute.errors, minute.overflow_calls) == (3, 1, 0)
    assert minute.overflow_cost == Decimal(0)


def test_unlisted_overflow_price_is_recorded_as_null_never_zero(deck: Deck) -> None:
    """qwen3-vl-plus in thinking mode has no listed PAYG output price: cost null, counted."""
    dm = deck.deploy_ptu("qwen3-vl-plus-2025-09-23", output_tpm=1_000, thinking=True)
    with deck.client() as client:
        result = client.chat(dm, user(words(50)), max_tokens=600, enable_thinking=True)
        assert client.flush(30)
    assert result.overflow  # 600 answer + 600 reasoning tokens exceed 1,000 output TPM
    assert result.record.reasoning_tokens == 600
    assert result.record.output_tokens == 1200
    assert result.cost is None
    [row] = stored_calls(deck, dm)
    assert row.cost is None and row.overflow
    [minute] = minute_stats(deck.store, dm, utcnow() - timedelta(hours=1), utcnow())
    assert minute.overflow_calls == 1
    assert minute.unpriced_overflow_calls == 1
    assert minute.overflow_cost == Decimal(0)


def test_overflow_of_an_unknown_deployment_cannot_be_priced(deck: Deck) -> None:
    dm = deck.deploy_ptu(output_tpm=1_000)
    with deck.client(deployments=lambda _dm: None) as client:
        client.chat(dm, user(words(10)), max_tokens=1000)
        result = client.chat(dm, user(words(10)), max_tokens=10)
    assert result.overflow
    assert result.record.model is None
    assert result.cost is None
