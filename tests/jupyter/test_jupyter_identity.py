"""Honest backends and identity (issue 14 item 7): who the notebook acts as, and against what."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from modeldeck.errors import PermissionDenied
from modeldeck.serving import free_port
from modeldeck.testing import Stack
from modeldeck_jupyter import Deck, DeckPanel
from modeldeck_jupyter.magics import magics_of

PRINCIPALS = [
    {"name": "alice", "jupyter_user": "alice", "roles": ["deployer", "approver"]},
    {"name": "bob", "jupyter_user": "bob", "roles": ["deployer", "approver"]},
]


@pytest.fixture(scope="module")
def linked() -> Iterator[Stack]:
    with Stack(principals=PRINCIPALS) as running:
        yield running


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setattr("modeldeck_jupyter.panel._current", None)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "modeldeck_jupyter")
    yield ip
    ip.run_line_magic("unload_ext", "modeldeck_jupyter")


def deck_line(ip: InteractiveShell, line: str) -> str:
    with capture_output() as captured:
        ip.run_cell(line, store_history=False)
    (output,) = captured.outputs
    text: str = output.data["text/plain"]
    return text


def test_the_panel_class_is_deck_panel() -> None:
    assert Deck is DeckPanel
    assert DeckPanel.__name__ == "DeckPanel"


def test_in_process_identity_is_the_notebook_users(
    linked: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert linked.deck is not None
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    panel = Deck(linked.deck)
    try:
        assert panel.problem is None, panel.problem
        assert panel.user == "bob"
        assert "→ bob (" in panel.header_html.value
    finally:
        panel.close()


def test_user_cannot_name_another_principal_in_process(
    linked: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert linked.deck is not None
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    panel = Deck(linked.deck, user="bob")
    try:
        assert panel.problem is not None
        assert "'bob'" in panel.problem and "alice" in panel.problem
        assert "token" in panel.problem  # says how to act as bob properly
        assert panel.user == "alice"
        assert panel.request_deploy() is None
        assert "Not connected" in panel.deploy_result_html.value
        assert "Traceback" not in panel.status_html.value
    finally:
        panel.close()
    same = Deck(linked.deck, user="alice")  # naming yourself is fine
    try:
        assert same.problem is None, same.problem
    finally:
        same.close()


def test_magics_use_refuses_another_principal(
    linked: Stack, shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert linked.deck is not None
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    magics = magics_of(shell)
    assert magics is not None
    with pytest.raises(PermissionDenied, match="bob"):
        magics.use(linked.deck, user="bob")
    magics.use(linked.deck)
    assert magics.target()[1] == "alice"
    magics.use(None)


def test_a_panel_that_failed_to_connect_is_never_silently_replaced(
    stack: Stack, shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The panel named a server that is down; %deck must not answer from the local store."""
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MODELDECK_SERVER__URL")  # the local store would answer
    down = Deck(server=f"http://127.0.0.1:{free_port()}").wait()
    try:
        assert down.problem is not None
        text = deck_line(shell, "%deck list")
        assert "not connected" in text
        assert "other backend" in text
    finally:
        down.close()


def test_every_answer_names_its_backend(
    stack: Stack, shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    text = deck_line(shell, "%deck models")
    assert f"via server {stack.server_url} (configured, no panel open)" in text
    assert stack.deck is not None
    panel = Deck(stack.deck, user="carol")
    try:
        text = deck_line(shell, "%deck models")
        assert "via in-process (Deck) (the panel's connection)" in text
    finally:
        panel.close()
