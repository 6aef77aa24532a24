"""The panel paints before anything slow (issue 15 item 3): connect in the background, then fill."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from modeldeck.testing import Stack
from modeldeck_jupyter import Deck
from modeldeck_jupyter.connect import Connection, connect
from modeldeck_jupyter.html import visible_text


def test_the_panel_paints_while_connecting_then_fills_in(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    calls: list[str] = []

    def slow_connect(**kwargs: Any) -> Connection:
        calls.append("connect")
        assert release.wait(60), "the test never released the connect"
        return connect(**kwargs)

    monkeypatch.setattr("modeldeck_jupyter.panel.connect", slow_connect)
    panel = Deck(server=stack.server_url, user="alice", auto_refresh=False)
    try:
        assert not panel.ready.is_set()  # returned while the connect is still blocked
        assert "Connecting to modeldeck" in visible_text(panel.status_html.value)
        assert "connecting…" in panel.header_html.value
        assert panel.deploy_button.disabled
        assert panel.request_deploy() is None
        assert "still connecting" in visible_text(panel.deploy_result_html.value)
        release.set()
        panel.wait()
        assert calls == ["connect"]
        assert panel.problem is None, panel.problem
        assert panel.model.options  # the catalog arrived
        assert panel.last_estimate is not None, panel.last_error
        assert f"server {stack.server_url}" in panel.header_html.value
        assert not panel.deploy_button.disabled
        assert "Connecting" not in panel.status_html.value
    finally:
        release.set()
        panel.close()


def test_a_given_deck_is_filled_in_at_once(stack: Stack) -> None:
    assert stack.deck is not None
    panel = Deck(stack.deck, user="alice", auto_refresh=False)
    try:
        assert panel.ready.is_set() and panel.model.options
    finally:
        panel.close()
