"""Streaming (sync and async) records usage from the last chunk; async calls at concurrency."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from modeldeck.metering import AsyncMeteredClient, CallRecord
from modeldeck.provider import ProviderConnectionError, ThrottlingError
from modeldeck.sandbox.config import FaultRule
from modeldeck.store.models import UsageCallRow
from tests.metering.meterhelpers import API_KEY, Deck, builtin_catalog, user, words


def stored(deck: Deck, call_id: str) -> UsageCallRow:
    with deck.store.session() as session:
        return session.scalars(select(UsageCallRow).where(UsageCallRow.call_id == call_id)).one()


def test_streaming_records_usage_from_the_last_chunk(deck: Deck) -> None:
    dm = deck.deploy_ptu(output_tpm=1_000)
    with deck.client() as client:
        stream = client.stream_chat(dm, user(words(12)), max_tokens=9)
        chunks = list(stream)
        assert client.flush(30)
    text = "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")
    )
    assert len(text.split()) == 9
    last = chunks[-1]
    assert last["choices"] == [] and last["usage"]["prompt_tokens"] == 12
    record = stream.record
    assert isinstance(record, CallRecord)
    assert (record.input_tokens, record.output_tokens) == (12, 9)
    assert record.error is None and record.status_code == 200 and not record.overflow
    assert record.request_id == stream.headers["x-request-id"]
    row = stored(deck, record.call_id)
    assert (row.input_tokens, row.output_tokens, row.cost) == (12, 9, Decimal(0))


def test_streamed_overflow_is_flagged_and_priced(deck: Deck) -> None:
    dm = deck.deploy_ptu(output_tpm=1_000)
    with deck.client() as client:
        client.chat(dm, user(words(10)), max_tokens=1000)  # fills the minute
        stream = client.stream_chat(dm, user(words(1000)), max_tokens=500)
        for _ in stream:
            pass
    assert stream.overflow and stream.record is not None and stream.record.overflow
    assert stream.record.cost == Decimal("0.0042")  # (1,000 × 1.2 + 500 × 6) / 1,000,000


def test_a_stream_left_early_is_recorded_as_such(deck: Deck) -> None:
    dm = deck.deploy_ptu(output_tpm=1_000)
    with deck.client() as client, client.stream_chat(dm, user(words(5)), max_tokens=40) as stream:
        first = next(iter(stream))
        assert first["choices"][0]["delta"]["role"] == "assistant"
    assert stream.record is not None
    assert stream.record.error is not None and "closed before its end" in stream.record.error
    assert stream.record.input_tokens == 0  # usage comes in the last chunk, never read
    assert stored(deck, stream.record.call_id).error == stream.record.error


def test_async_client_chat_and_stream(deck: Deck) -> None:
    dm = deck.deploy_ptu("qwen-plus-2025-12-01", output_tpm=1_000, thinking=True)

    async def run() -> tuple[Any, Any, list[dict[str, Any]]]:
        async with AsyncMeteredClient(
            deck.base_url,
            API_KEY,
            store=deck.store,
            deployments=deck.lookup,
            journal_dir=deck.journal_dir,
            catalog=builtin_catalog(),
        ) as client:
            # PTU thinking is a per-call option (enable_thinking is not a PTU create option).
            result = await client.chat(dm, user(words(30)), max_tokens=20, enable_thinking=True)
            stream = client.stream_chat(dm, user(words(30)), max_tokens=20, enable_thinking=True)
            chunks = [chunk async for chunk in stream]
            assert await client.flush(30)
            return result, stream, chunks

    result, stream, chunks = asyncio.run(run())
    # Thinking mode: as many reasoning tokens again, counted in completion_tokens.
    assert (result.record.output_tokens, result.record.reasoning_tokens) == (40, 20)
    assert result.data["choices"][0]["message"]["reasoning_content"]
    assert result.record.mode == "thinking" and result.cost == Decimal(0)
    assert any("reasoning_content" in c["choices"][0]["delta"] for c in chunks if c["choices"])
    assert stream.record.output_tokens == 40 and stream.record.reasoning_tokens == 20
    assert stored(deck, stream.record.call_id).reasoning_tokens == 20


@pytest.mark.slow
def test_async_concurrent_calls_lose_no_record(deck: Deck) -> None:
    dm = deck.deploy_ptu(input_tpm=1_000_000, output_tpm=1_000)
    n = 120
    lookups: list[str] = []

    def lookup(deployed_model: str) -> tuple[str, str] | None:
        lookups.append(deployed_model)
        return deck.lookup(deployed_model)

    async def run() -> list[Any]:
        async with AsyncMeteredClient(
            deck.base_url,
            API_KEY,
            store=deck.store,
            deployments=lookup,
            journal_dir=deck.journal_dir,
            catalog=builtin_catalog(),
        ) as client:
            return await asyncio.gather(
                *(client.chat(dm, user(words(10)), max_tokens=10) for _ in range(n))
            )

    results = asyncio.run(run())  # closing the client drains its recorder
    assert lookups == [dm]  # concurrent calls on a cold cache share one lookup
    with deck.store.session() as session:
        count = session.scalar(
            select(func.count()).select_from(UsageCallRow).where(UsageCallRow.deployed_model == dm)
        )
        overflowed = session.scalar(
            select(func.count()).select_from(UsageCallRow).where(UsageCallRow.overflow.is_(True))
        )
    assert count == n
    assert len({r.call_id for r in results}) == n
    # 1,000 output TPM hold 100 calls of 10 output tokens; the other 20 overflow.
    assert overflowed == sum(r.overflow for r in results) == n - 100
    assert not list(deck.journal_dir.glob("*.jsonl"))  # drained and closed: nothing to replay


def test_a_refused_stream_is_recorded_and_raised(deck: Deck) -> None:
    dm = deck.deploy_ptu(output_tpm=1_000, overflow=False)
    with deck.client() as client:
        client.chat(dm, user(words(10)), max_tokens=1000)  # uses up the minute
        stream = client.stream_chat(dm, user(words(10)), max_tokens=10)
        with pytest.raises(ThrottlingError):
            list(stream)
    assert stream.status_code == 429
    assert stream.record is not None and stream.record.status_code == 429
    assert stream.record.error is not None and "insufficient_quota" in stream.record.error
    assert stored(deck, stream.record.call_id).cost == Decimal(0)


def test_a_dropped_answer_is_recorded_without_usage(deck: Deck) -> None:
    """The sandbox served the call, then the connection dropped: an error with status 0."""
    dm = deck.deploy_ptu(output_tpm=100_000)
    deck.sandbox.set_faults(
        [FaultRule(kind="drop", path="/compatible-mode/", times=1, after_handler=True)]
    )
    with deck.client() as client:
        with pytest.raises(ProviderConnectionError):
            client.chat(dm, user(words(10)), max_tokens=5)
        ok = client.chat(dm, user(words(10)), max_tokens=5)  # the fault fired once
        assert client.flush(30)
    with deck.store.session() as session:
        rows = list(session.scalars(select(UsageCallRow).order_by(UsageCallRow.id)))
    assert [r.status_code for r in rows] == [0, 200]
    assert rows[0].error is not None and rows[0].input_tokens == 0
    assert rows[1].call_id == ok.call_id
    # The sandbox counted both calls: the first one's usage is what metering could not see.
    assert sum(r["requests"] for r in deck.sandbox_usage(dm)) == 2
