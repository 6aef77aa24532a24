"""Every capability the roles define is enforced; errors and admin commands travel over REST.

A real server on 127.0.0.1 shares the team's store; principals carry tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from modeldeck.cli import cli
from modeldeck.domain import DeploySpec, LimitsSpec
from modeldeck.errors import NotFound, PermissionDenied
from modeldeck.identity import CAPABILITIES
from modeldeck.provider.errors import ProviderNotFound
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.server.client import RemoteDeck
from modeldeck.serving import ServerThread
from modeldeck.testing import Stack
from modeldeck.tokens import create_token
from tests.workflow.wfhelpers import MakeDeck

ONE_UNIT = DeploySpec(model="qwen3-32b", plan="mu", units=1)
TEAM: list[dict[str, Any]] = [
    {"name": "alice", "jupyter_user": "alice", "roles": ["deployer"]},
    {"name": "bob", "jupyter_user": "bob", "roles": ["approver"]},
    {"name": "dave", "jupyter_user": "dave", "roles": ["admin"]},
    {"name": "victor", "jupyter_user": "victor", "roles": ["viewer"]},
    {"name": "nora", "jupyter_user": "nora", "roles": []},  # linked, but granted nothing
]


@pytest.fixture
def team(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> Iterator[tuple[ServerThread, dict[str, str]]]:
    """A team server and a token per principal."""
    from modeldeck.server import create_app

    deck = make_deck(principals=TEAM)
    tokens = {p["name"]: create_token(deck.store, p["name"])[1] for p in TEAM}
    with ServerThread(create_app(deck, deck.settings)) as server:
        yield server, tokens


def http(server: Any, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


def test_read_is_enforced_over_rest(team: tuple[Any, dict[str, str]]) -> None:
    server, tokens = team
    for path in ("/api/deployments", "/api/requests", "/api/models", "/api/cost", "/api/audit"):
        with http(server, tokens["nora"]) as nora:
            refused = nora.get(path)
        assert refused.status_code == 403, (path, refused.text)
        assert "may not read" in refused.json()["error"]["message"]
        with http(server, tokens["victor"]) as victor:
            assert victor.get(path).status_code == 200, path


def test_configure_is_enforced_over_rest(team: tuple[Any, dict[str, str]]) -> None:
    server, tokens = team
    for who in ("victor", "alice", "bob"):
        with http(server, tokens[who]) as client:
            refused = client.post("/api/tokens", json={"principal": "alice"})
            assert refused.status_code == 403 and "may not configure" in refused.text, who
            assert client.get("/api/tokens").status_code == 403, who
    remote = RemoteDeck(server.url, tokens["dave"])
    try:
        grant = remote.create_token("alice")
        assert grant.principal == "alice"
        with http(server, grant.token.get_secret_value()) as alice:
            assert alice.get("/api/deployments").status_code == 200  # the new token works
        assert grant.id in {t["id"] for t in remote.list_tokens()}
        remote.revoke_token(grant.id)
        with http(server, grant.token.get_secret_value()) as alice:
            assert alice.get("/api/deployments").status_code == 401  # revoked: unauthenticated
    finally:
        remote.close()


def test_each_capability_is_refused_to_a_role_without_it(
    team: tuple[Any, dict[str, str]],
) -> None:
    """One refusal per capability of identity.CAPABILITIES (a new one must be added here)."""
    server, tokens = team
    refusals = {
        "read": lambda c: c.get("/api/deployments"),
        "request": lambda c: c.post(
            "/api/requests/deploy",
            json={
                "spec": ONE_UNIT.model_dump(mode="json"),
                "actor": {"principal": "x", "surface": "api"},
            },
        ),
        "decide": lambda c: c.post(
            "/api/requests/req_x/approve", json={"actor": {"principal": "x", "surface": "api"}}
        ),
        "configure": lambda c: c.get("/api/tokens"),
        "refs": lambda c: c.put("/api/requests/req_x/refs", json={"key": "k", "value": "v"}),
    }
    assert set(refusals) == set(CAPABILITIES)
    for capability, call in refusals.items():
        with http(server, tokens["nora"]) as nora:
            resp = call(nora)
        assert resp.status_code == 403, (capability, resp.text)
        assert f"may not {capability}" in resp.json()["error"]["message"]


def test_request_limits_checks_module_access(make_deck: MakeDeck, sandbox: RunningSandbox) -> None:
    deck = make_deck(principals=TEAM, workspace={"id": "ws", "full_access": ["dave"]})
    with pytest.raises(PermissionDenied, match="Missing permissions for this module"):
        deck.request_limits(
            LimitsSpec(deployment="anything", rpm_limit=10), deck.resolve_actor("jupyter", "alice")
        )


def test_a_provider_404_arrives_as_not_found(
    make_deck: MakeDeck, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over REST the client rebuilds the provider's class (ProviderNotFound is a NotFound)."""
    from modeldeck.server import create_app

    deck = make_deck(principals=[])

    def gone(ref: str) -> Any:
        raise ProviderNotFound(
            "Deployment qwen3-32b-x not found.", status_code=404, code="NotFound"
        )

    monkeypatch.setattr(deck, "get_deployment", gone)
    with ServerThread(create_app(deck, deck.settings)) as server:
        remote = RemoteDeck(server.url)
        try:
            with pytest.raises(NotFound) as caught:
                remote.get_deployment("qwen3-32b-x")
        finally:
            remote.close()
        raw = httpx.get(f"{server.url}/api/deployments/qwen3-32b-x")
    assert type(caught.value) is ProviderNotFound
    assert "not found" in caught.value.message
    assert raw.status_code == 404  # not 502: the person can fix the name


def test_an_unknown_error_class_falls_back_to_the_nearest_known_one() -> None:
    from modeldeck.server.errors import from_body

    body = {"error": {"type": "PluginGone", "bases": ["NotFound", "UserError"], "message": "m"}}
    assert type(from_body(404, body)) is NotFound
    old = {"error": {"type": "PluginGone", "message": "m"}}  # a server without `bases`
    assert type(from_body(404, old)) is NotFound
    assert type(from_body(403, old)) is PermissionDenied


CONFIG = """
[[principals]]
name = "dave"
jupyter_user = "dave"
roles = ["admin"]

[[principals]]
name = "alice"
roles = ["deployer"]
"""


@pytest.fixture
def team_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Stack, Path]]:
    """A team server with its own data dir, and a laptop (another data dir) pointed at it."""
    config = tmp_path / "modeldeck.toml"
    config.write_text(CONFIG)
    monkeypatch.setenv("MODELDECK_CONFIG", str(config))
    with Stack(data_dir=tmp_path / "server") as stack:
        assert stack.deck is not None
        _, admin = create_token(stack.deck.store, "dave")
        laptop = tmp_path / "laptop"
        monkeypatch.setenv("MODELDECK_DATA_DIR", str(laptop))
        monkeypatch.setenv("MODELDECK_SERVER__URL", stack.server_url)
        monkeypatch.setenv("MODELDECK_SERVER__TOKEN", admin)
        yield stack, laptop


def test_cli_audit_and_token_use_the_configured_server(team_stack: tuple[Stack, Path]) -> None:
    stack, laptop = team_stack
    runner = CliRunner()
    created = runner.invoke(cli, ["token", "create", "alice"], catch_exceptions=False)
    assert created.exit_code == 0, created.output
    token_id = created.output.split()[1]
    listed = runner.invoke(cli, ["token", "list"], catch_exceptions=False)
    assert token_id in listed.output
    audit = runner.invoke(cli, ["audit", "--jsonl", "--limit", "0"], catch_exceptions=False)
    assert audit.exit_code == 0, audit.output
    actions = [line for line in audit.output.splitlines() if token_id in line]
    assert actions and '"token_create"' in actions[0]  # the server's log, with this token
    revoked = runner.invoke(cli, ["token", "revoke", token_id], catch_exceptions=False)
    assert revoked.exit_code == 0, revoked.output
    assert stack.deck is not None
    assert {t["id"]: t["revoked_at"] for t in stack.deck.list_tokens()}[token_id] is not None
    assert not list(laptop.glob("modeldeck.db*")), "the laptop opened a local store"
