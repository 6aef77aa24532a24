"""Failed calls are recorded, then raised as provider errors; bad input is refused; no leaks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from modeldeck.errors import ValidationFailed
from modeldeck.metering import MeteredClient
from modeldeck.provider import AuthenticationError, ProviderConnectionError, ProviderNotFound
from modeldeck.serving import free_port
from modeldeck.store.models import UsageCallRow
from tests.metering.meterhelpers import Deck, builtin_catalog, user, words

SECRET = "sk-not-the-right-key-1234567890"


def rows(deck: Deck) -> list[UsageCallRow]:
    with deck.store.session() as session:
        return list(session.scalars(select(UsageCallRow).order_by(UsageCallRow.id)))


def test_a_wrong_key_is_recorded_and_never_shown(deck: Deck) -> None:
    dm = deck.deploy_ptu()
    client = MeteredClient(
        deck.base_url,
        SECRET,
        store=deck.store,
        journal_dir=deck.journal_dir,
        catalog=builtin_catalog(),
        deployments=deck.lookup,
    )
    assert SECRET not in repr(client)
    with pytest.raises(AuthenticationError) as caught:
        client.chat(dm, user("hi"))
    assert client.flush(30)
    journal_text = b"".join(p.read_bytes() for p in deck.journal_dir.glob("*.jsonl"))
    client.close()
    assert caught.value.status_code == 401
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    assert SECRET.encode() not in journal_text
    [row] = rows(deck)
    assert row.status_code == 401 and row.error is not None and "invalid_api_key" in row.error
    assert SECRET not in row.error


def test_an_unknown_deployment_is_a_recorded_404(deck: Deck) -> None:
    with deck.client(deployments=lambda _dm: None) as client, pytest.raises(ProviderNotFound):
        client.chat("qwen3-max-2025-09-23-nope", user("hi"))
    [row] = rows(deck)
    assert (row.deployed_model, row.status_code, row.cost) == (
        "qwen3-max-2025-09-23-nope",
        404,
        Decimal(0),
    )
    assert row.error is not None and "does not exist" in row.error


def test_no_answer_is_recorded_with_status_0(deck: Deck, tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/v1"
    with (
        MeteredClient(
            nowhere,
            "sk-x",
            store=deck.store,
            journal_dir=tmp_path / "j",
            catalog=builtin_catalog(),
            deployments=lambda _dm: ("qwen3-max-2025-09-23", "instruct"),
        ) as client,
        pytest.raises(ProviderConnectionError) as caught,
    ):
        client.chat("some-deployment", user("hi"))
    assert "127.0.0.1" in str(caught.value)
    [row] = rows(deck)
    assert row.status_code == 0 and row.error is not None and row.cost == Decimal(0)


def test_bad_input_is_refused_before_any_call(deck: Deck) -> None:
    not_a_list: Any = "hello"
    with deck.client() as client:
        with pytest.raises(ValidationFailed, match="non-empty list"):
            client.chat("dm", [])
        with pytest.raises(ValidationFailed, match="deployed Model Code"):
            client.chat("", user("hi"))
        with pytest.raises(ValidationFailed, match="non-empty list"):
            client.stream_chat("dm", not_a_list)
    with pytest.raises(ValidationFailed, match="http"):
        MeteredClient("dashscope.aliyuncs.com", "k", store=deck.store, journal_dir=deck.journal_dir)
    assert rows(deck) == []


def test_base_url_may_be_the_compatible_mode_url(deck: Deck) -> None:
    dm = deck.deploy_ptu(output_tpm=100_000)
    with (
        deck.client() as a,
        MeteredClient(
            f"{deck.url}/compatible-mode/v1/",
            "sk-metering-test",
            store=deck.store,
            journal_dir=deck.journal_dir,
            catalog=builtin_catalog(),
            deployments=deck.lookup,
        ) as b,
    ):
        assert a.chat_url == b.chat_url == f"{deck.url}/compatible-mode/v1/chat/completions"
        assert b.chat(dm, user(words(3)), max_tokens=2).record.output_tokens == 2
