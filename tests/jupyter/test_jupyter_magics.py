"""`%load_ext modeldeck_jupyter` and `%deck <command>` in a real in-process IPython shell."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from modeldeck.domain import DeploySpec, RequestStatus
from modeldeck.grammar import DeployCommand, EstimateCommand, parse
from modeldeck.money import format_amount
from modeldeck.testing import Stack
from modeldeck.tokens import create_token
from modeldeck_jupyter import Deck
from modeldeck_jupyter.magics import DeckMagics, magics_of

MU_MODEL = "qwen3-32b"
PTU_MODEL = "qwen3-max-2025-09-23"
_suffixes = itertools.count(1)


def deploy_spec(words: str) -> DeploySpec:
    """The DeploySpec of a `deploy ...` line, as the grammar reads it."""
    command = parse(words)
    assert isinstance(command, DeployCommand | EstimateCommand)
    return command.spec


@pytest.fixture(params=["in-process", "remote"])
def shell(
    request: pytest.FixtureRequest, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    """An IPython shell with the extension loaded, its environment pointing at the stack.

    Remote: `MODELDECK_SERVER__URL` names the stack's server. In-process: only the data dir
    and the sandbox's address are set, so `%deck` builds its own core on the stack's store.
    """
    assert stack.settings is not None
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    if request.param == "in-process":
        monkeypatch.delenv("MODELDECK_SERVER__URL")
    else:  # the server acts as the token's principal
        assert stack.deck is not None
        monkeypatch.setenv("MODELDECK_SERVER__TOKEN", create_token(stack.deck.store, "bob")[1])
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    monkeypatch.setattr("modeldeck_jupyter.panel._current", None)  # no panel of another test
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "modeldeck_jupyter")
    yield ip
    ip.run_line_magic("unload_ext", "modeldeck_jupyter")


def run(ip: InteractiveShell, line: str) -> tuple[dict[str, str], str]:
    """Run one cell; return the one displayed bundle and everything printed."""
    with capture_output() as captured:
        result = ip.run_cell(line, store_history=False)
    assert result.success, result.error_in_exec or result.error_before_exec
    printed = captured.stdout + captured.stderr
    assert "Traceback" not in printed
    (output,) = captured.outputs
    data: dict[str, str] = output.data
    return data, printed


def magics(ip: InteractiveShell) -> DeckMagics:
    found = magics_of(ip)
    assert found is not None
    return found


def ask(stack: Stack, user: str, words: str) -> str:
    assert stack.deck is not None
    actor = stack.deck.resolve_actor("jupyter", user)
    spec = deploy_spec(f"{words} suffix=m{next(_suffixes)}")
    return stack.deck.request_deploy(spec, actor).id


def test_help_and_a_bare_deck(shell: InteractiveShell, request: pytest.FixtureRequest) -> None:
    from modeldeck.deck import Deck as CoreDeck
    from modeldeck.server.client import RemoteDeck

    deck, user = magics(shell).target()
    remote = request.node.callspec.params["shell"] == "remote"
    assert isinstance(deck, RemoteDeck if remote else CoreDeck)
    assert user == "bob"  # JUPYTERHUB_USER
    data, _ = run(shell, "%deck help")
    assert "estimate" in data["text/plain"] and "approve" in data["text/plain"]
    bare, _ = run(shell, "%deck")
    assert bare["text/plain"] == data["text/plain"]


def test_estimate_shows_the_estimate_html(shell: InteractiveShell, stack: Stack) -> None:
    words = f"estimate {PTU_MODEL} ptu in=20k out=2k hours=10"
    data, _ = run(shell, f"%deck {words}")
    assert "$31.20" in data["text/plain"]  # billing rules example 1
    assert "modeldeck-estimate-ok" in data["text/html"] and "$31.20" in data["text/html"]
    answer = magics(shell).last_answer
    assert answer is not None and answer.command == "estimate"
    assert stack.deck is not None
    assert Decimal(answer.data["total"]) == stack.deck.estimate(deploy_spec(words)).total


def test_compare_shows_the_break_even(shell: InteractiveShell) -> None:
    data, _ = run(shell, f"%deck estimate {PTU_MODEL} ptu in=20k out=2k hours_per_day=14 compare")
    assert "Upfront wins above 12 h/day" in data["text/html"]
    assert "Comparison:" in data["text/plain"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%deck frobnicate now", "help"),
        (f"%deck estimate {MU_MODEL} mu units=-3 hours=1", "units"),
        ("%deck status no-such-deployment", "no-such-deployment"),
        ("%deck approve", "request id"),
    ],
)
def test_user_errors_are_one_clear_line(shell: InteractiveShell, line: str, expected: str) -> None:
    data, printed = run(shell, line)
    assert data["text/plain"].startswith("⚠ ")
    assert expected in data["text/plain"]
    assert "modeldeck-error" in data["text/html"]
    assert "Traceback" not in data["text/plain"] + data["text/html"] + printed
    answer = magics(shell).last_answer
    assert answer is not None and not answer.ok


def test_approve_and_reject_as_the_notebook_user(shell: InteractiveShell, stack: Stack) -> None:
    assert stack.deck is not None
    mine = ask(stack, "bob", f"deploy {MU_MODEL} mu units=1")
    refused, _ = run(shell, f"%deck approve {mine}")
    assert "cannot approve" in refused["text/plain"]
    assert stack.deck.get_request(mine).status == RequestStatus.PENDING

    theirs = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1")
    approved, _ = run(shell, f"%deck approve {theirs}")
    assert f"{theirs} approved and executed." in approved["text/plain"]
    assert "modeldeck-outcome-executed" in approved["text/html"]
    assert stack.deck.get_request(theirs).status == RequestStatus.EXECUTED

    again, _ = run(shell, f"%deck approve {theirs}")
    assert "already executed" in again["text/plain"]

    other = ask(stack, "alice", f"deploy {MU_MODEL} mu units=2")
    rejected, _ = run(shell, f'%deck reject {other} reason="costs $40 an hour {{too much}}"')
    assert f"{other} rejected." in rejected["text/plain"]
    stored = stack.deck.get_request(other)
    assert stored.status == RequestStatus.REJECTED
    # the line reached the grammar as typed: no $var or {expression} expansion by IPython
    assert [(d.principal, d.reason) for d in stored.decisions] == [
        ("bob", "costs $40 an hour {too much}")
    ]


def test_approvals_lists_what_waits(shell: InteractiveShell, stack: Stack) -> None:
    waiting = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1")
    data, _ = run(shell, "%deck approvals")
    assert waiting in data["text/plain"]
    assert "text/html" not in data  # plain text: rendered monospace as it is


def test_cost_is_a_table_with_the_decks_total(shell: InteractiveShell, stack: Stack) -> None:
    data, _ = run(shell, "%deck cost period=today")
    html = data["text/html"]
    assert "modeldeck-cost-ok" in html and "Today" in html and "all deployments" in html
    answer = magics(shell).last_answer
    assert answer is not None and answer.command == "cost"
    total: Any = answer.data["total"]
    assert format_amount(Decimal(total), answer.data["currency"]) in html
    assert stack.deck is not None
    if stack.deck.list_deployments():
        dep = stack.deck.list_deployments()[0]
        one, _ = run(shell, f"%deck cost {dep.id} period=today")
        assert f"Spend <b>Today</b>, {dep.id}" in one["text/html"]


def test_an_open_panel_is_used_with_its_user(shell: InteractiveShell, stack: Stack) -> None:
    assert stack.deck is not None
    panel = Deck(stack.deck, user="carol")
    try:
        request = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1")
        data, _ = run(shell, f"%deck approve {request}")
        assert "approved and executed" in data["text/plain"]
        decided = stack.deck.get_request(request).decisions
        assert [d.principal for d in decided] == ["carol"]  # the panel's user, not bob
    finally:
        panel.close()
    after = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1")
    run(shell, f"%deck reject {after}")
    assert [d.principal for d in stack.deck.get_request(after).decisions] == ["bob"]


def test_use_points_the_magic_at_a_given_deck(shell: InteractiveShell, stack: Stack) -> None:
    assert stack.deck is not None
    magics(shell).use(stack.deck, user="dave")
    request = ask(stack, "alice", f"deploy {MU_MODEL} mu units=1")
    run(shell, f"%deck reject {request}")
    assert [d.principal for d in stack.deck.get_request(request).decisions] == ["dave"]
    magics(shell).use(None)


def test_an_unreachable_server_is_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    from modeldeck.serving import free_port

    monkeypatch.setenv("MODELDECK_SERVER__URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr("modeldeck_jupyter.panel._current", None)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "modeldeck_jupyter")
    try:
        data, _ = run(ip, "%deck list")
        assert "Cannot reach the modeldeck server" in data["text/plain"]
    finally:
        ip.run_line_magic("unload_ext", "modeldeck_jupyter")
