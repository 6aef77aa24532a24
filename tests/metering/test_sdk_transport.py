"""The official OpenAI SDK, given modeldeck's httpx transport, is metered like `MeteredClient.chat`:
each chat completion is one record with the usage the SDK saw; an error answer is recorded and
still reaches the SDK as its own exception; a stream is refused rather than left unmetered."""

from __future__ import annotations

import httpx
import openai
import pytest
from sqlalchemy import select

from modeldeck.errors import ValidationFailed
from modeldeck.metering.transport import MeteredTransport
from modeldeck.store.models import UsageCallRow
from tests.metering.meterhelpers import API_KEY, Deck, user


def records(deck: Deck, dm: str) -> list[UsageCallRow]:
    with deck.store.session() as s:
        rows = list(
            s.scalars(select(UsageCallRow).where(UsageCallRow.deployed_model.like(f"{dm}%")))
        )
        s.expunge_all()
        return rows


def test_the_openai_sdk_through_the_transport_is_metered(deck: Deck) -> None:
    dm = deck.deploy_ptu()
    meter = deck.client()
    http = httpx.Client(transport=MeteredTransport(meter))
    # this openai release types http_client as httpx2.Client; an httpx.Client works alike
    sdk = openai.OpenAI(base_url=meter.base_url, api_key=API_KEY, http_client=http, max_retries=0)  # type: ignore[arg-type]
    answers = [
        sdk.chat.completions.create(model=dm, messages=user("hello there"), max_tokens=8)  # type: ignore[arg-type]
        for _ in range(3)
    ]
    with pytest.raises(openai.APIStatusError):
        sdk.chat.completions.create(model=f"{dm}-nope", messages=user("hi"))  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="stream"):
        sdk.chat.completions.create(model=dm, messages=user("hi"), stream=True)  # type: ignore[arg-type]
    assert meter.flush(10)
    ok = sorted((r for r in records(deck, dm) if r.status_code == 200), key=lambda r: r.at)
    assert [(r.input_tokens, r.output_tokens) for r in ok] == [
        (a.usage.prompt_tokens, a.usage.completion_tokens) for a in answers if a.usage
    ]
    failed = [r for r in records(deck, dm) if r.status_code >= 400]
    assert len(failed) == 1 and failed[0].deployed_model == f"{dm}-nope" and failed[0].error
    meter.close()
    http.close()
