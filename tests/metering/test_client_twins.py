"""The sync and async metered clients are twins: same answers, same typed errors, same records.

Both build their headers and errors with the one wire layer (`modeldeck.provider.wire`); this
checks it end to end against the sandbox for a success and for each kind of refusal.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from modeldeck.metering import AsyncMeteredClient, MeteredClient
from modeldeck.provider import ProviderError
from tests.metering.meterhelpers import API_KEY, Deck, builtin_catalog, user, words


def outcome(result: Any) -> tuple[Any, ...]:
    """What must be alike: the answer's shape and record, or the error's type, code and text."""
    if isinstance(result, ProviderError):
        return ("error", type(result), result.status_code, result.code, result.message)
    record = result.record
    return (
        "ok",
        result.status_code,
        result.overflow,
        sorted(result.usage),
        (record.input_tokens, record.output_tokens, record.error),
    )


def sync_call(deck: Deck, key: str, model: str, **extra: Any) -> Any:
    with MeteredClient(
        deck.base_url,
        key,
        store=deck.store,
        deployments=deck.lookup,
        journal_dir=deck.journal_dir,
        catalog=builtin_catalog(),
    ) as client:
        try:
            return client.chat(model, user(words(20)), **{"max_tokens": 10, **extra})
        except ProviderError as err:
            return err


def async_call(deck: Deck, key: str, model: str, **extra: Any) -> Any:
    async def run() -> Any:
        async with AsyncMeteredClient(
            deck.base_url,
            key,
            store=deck.store,
            deployments=deck.lookup,
            journal_dir=deck.journal_dir,
            catalog=builtin_catalog(),
        ) as client:
            try:
                return await client.chat(model, user(words(20)), **{"max_tokens": 10, **extra})
            except ProviderError as err:
                return err

    return asyncio.run(run())


@pytest.mark.parametrize("case", ["ok", "unknown-model", "bad-key", "bad-parameter"])
def test_sync_and_async_answer_alike(deck: Deck, case: str) -> None:
    dm = deck.deploy_ptu()
    key, model, extra = API_KEY, dm, {}
    if case == "unknown-model":
        model = f"{dm}-nope"
    elif case == "bad-key":
        key = "sk-wrong-key-123456"
    elif case == "bad-parameter":
        extra = {"max_tokens": -5}
    sync, async_ = sync_call(deck, key, model, **extra), async_call(deck, key, model, **extra)
    assert outcome(sync) == outcome(async_)
    assert (outcome(sync)[0] == "ok") == (case == "ok")
    if isinstance(sync, ProviderError):
        assert "sk-wrong-key-123456" not in str(sync) + str(async_)
