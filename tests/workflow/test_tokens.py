"""Personal API tokens: shown once, stored as SHA-256 only, required by a team server, revocable.

`modeldeck token create` runs as a real process once (the "printed once" contract); the other
token commands run in-process through the same click group. The server is a real one on
127.0.0.1, sharing the SQLite store the CLI writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from modeldeck.audit import read_audit
from modeldeck.cli import cli
from modeldeck.domain import Actor, DeploySpec, RequestStatus
from modeldeck.errors import PermissionDenied
from modeldeck.server.client import RemoteDeck
from modeldeck.testing import Stack
from modeldeck.tokens import create_token

TOKEN = re.compile(r"mdk_[A-Za-z0-9_-]{43}")
CONFIG = """
[[principals]]
name = "adam"
roles = ["admin"]

[[principals]]
name = "alice"
jupyter_user = "alice"
roles = ["deployer"]

[[principals]]
name = "bob"
slack_user = "U0BOB"
roles = ["approver"]

[[principals]]
name = "victor"
roles = ["viewer"]
"""
SPEC = {"model": "qwen3-32b", "plan": "mu", "units": 1}


@pytest.fixture
def team_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir and a modeldeck.toml with principals, for the CLI and the server alike."""
    config = tmp_path / "modeldeck.toml"
    config.write_text(CONFIG)
    data = tmp_path / "data"
    monkeypatch.setenv("MODELDECK_CONFIG", str(config))
    monkeypatch.setenv("MODELDECK_DATA_DIR", str(data))
    monkeypatch.setenv("MODELDECK_TOKEN_FILE", str(tmp_path / "no-token-file"))
    monkeypatch.delenv("MODELDECK_TOKEN", raising=False)
    return data


@pytest.fixture
def stack(team_dir: Path) -> Iterator[Stack]:
    with Stack(data_dir=team_dir) as running:
        yield running


def run_cli(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def cli_process(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ["MODELDECK_DATA_DIR"],
        "MODELDECK_DATA_DIR": os.environ["MODELDECK_DATA_DIR"],
        "MODELDECK_CONFIG": os.environ["MODELDECK_CONFIG"],
        **({"MODELDECK_TOKEN": token} if token else {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "modeldeck", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def store_bytes(data_dir: Path) -> bytes:
    """Everything the SQLite store holds on disk (the main file and its write-ahead log)."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("modeldeck.db*")))


def test_token_create_prints_it_once_and_stores_only_its_hash(
    team_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = cli_process("token", "create", "adam", "--bootstrap")
    assert first.returncode == 0, first.stderr
    (admin,) = TOKEN.findall(first.stdout)
    done = cli_process("token", "create", "alice", token=admin)
    assert done.returncode == 0, done.stderr
    found = TOKEN.findall(done.stdout + done.stderr)
    assert len(found) == 1, "the token is printed exactly once"
    token = found[0]
    assert "shown once" in done.stdout

    on_disk = store_bytes(team_dir)
    assert token.encode() not in on_disk
    assert hashlib.sha256(token.encode()).hexdigest().encode() in on_disk

    monkeypatch.setenv("MODELDECK_TOKEN", admin)
    listing = run_cli("token", "list")
    assert listing.exit_code == 0 and "alice" in listing.output
    assert not TOKEN.search(listing.output)
    audit = [r for r in read_audit_at(team_dir) if r["action"] == "token_create"]
    assert [(r["actor"], r["detail"]["principal"]) for r in audit] == [
        ("adam", "adam"),
        ("adam", "alice"),
    ]
    assert token not in json.dumps(audit)

    unknown = run_cli("token", "create", "mallory")
    assert unknown.exit_code == 2
    assert "'mallory' is not a configured principal" in unknown.output


def read_audit_at(data_dir: Path) -> list[dict[str, Any]]:
    from modeldeck.store import Store

    store = Store(f"sqlite:///{data_dir / 'modeldeck.db'}")
    try:
        return read_audit(store)
    finally:
        store.dispose()


def api_routes(server_url: str) -> list[tuple[str, str]]:
    """Every /api operation the server documents, with placeholder path parameters."""
    paths = httpx.get(f"{server_url}/openapi.json").json()["paths"]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, ops in paths.items()
        if path.startswith("/api/")
        for method in ops
    ]


def test_the_server_refuses_api_calls_without_a_valid_token(stack: Stack) -> None:
    routes = api_routes(stack.server_url)
    assert len(routes) >= 10
    with httpx.Client(base_url=stack.server_url) as http:
        for method, path in routes:
            resp = http.request(method, path, json={})
            assert resp.status_code == 401, (method, path, resp.text)
            assert resp.json()["error"]["message"] == "This modeldeck server needs an API token."
            wrong = http.request(method, path, json={}, headers={"Authorization": "Bearer mdk_no"})
            assert wrong.status_code == 401, (method, path, wrong.text)
            assert wrong.json()["error"]["message"] == "The API token is unknown or revoked."
        assert http.get("/healthz").status_code == 200  # health stays public


def test_the_token_decides_who_acts_whatever_the_body_claims(stack: Stack) -> None:
    assert stack.deck is not None
    _, alice_token = create_token(stack.deck.store, "alice")
    _, bob_token = create_token(stack.deck.store, "bob")
    forged = {"principal": "dave", "surface": "slack", "roles": ["admin"], "external_id": "U0DAVE"}
    with httpx.Client(
        base_url=stack.server_url, headers={"Authorization": f"Bearer {alice_token}"}
    ) as alice:
        made = alice.post("/api/requests/deploy", json={"spec": SPEC, "actor": forged})
        assert made.status_code == 200, made.text
        request = made.json()
        assert (request["requester"], request["surface"]) == ("alice", "api")
        # alice claims to be an admin: her token says she is a deployer
        refused = alice.post(f"/api/requests/{request['id']}/approve", json={"actor": forged})
        assert refused.status_code == 403
        assert "alice may not decide" in refused.json()["error"]["message"]
        me = alice.post("/api/actors/resolve", json={"surface": "slack", "external_id": "U0BOB"})
        assert me.json()["principal"] == "alice"

    bob = RemoteDeck(stack.server_url, bob_token)
    try:
        claimed = Actor(principal="carol", surface="jupyter", roles=["admin"])
        outcome = bob.approve(request["id"], claimed)
        assert outcome.outcome == "executed", outcome.message
        assert [(d.principal, d.surface) for d in outcome.request.decisions] == [("bob", "jupyter")]
        with pytest.raises(PermissionDenied, match="bob may not request"):
            bob.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), claimed)
    finally:
        bob.close()
    assert stack.deck.get_request(request["id"]).status == RequestStatus.EXECUTED


def test_revoked_tokens_and_tokens_of_removed_principals_are_refused(
    stack: Stack, team_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.deck is not None
    token_id, token = create_token(stack.deck.store, "victor")
    _, ghost = create_token(stack.deck.store, "ghost")  # made before ghost left the config
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{stack.server_url}/api/requests", headers=headers).status_code == 200

    _, admin = create_token(stack.deck.store, "adam")
    monkeypatch.setenv("MODELDECK_TOKEN", admin)
    revoked = run_cli("token", "revoke", token_id)
    assert revoked.exit_code == 0 and f"Token {token_id} revoked." in revoked.output
    after = httpx.get(f"{stack.server_url}/api/requests", headers=headers)
    assert after.status_code == 401
    assert after.json()["error"]["message"] == "The API token is unknown or revoked."
    assert run_cli("token", "revoke", "tok_nonexistent").exit_code == 2

    gone = httpx.get(
        f"{stack.server_url}/api/requests", headers={"Authorization": f"Bearer {ghost}"}
    )
    assert gone.status_code == 403
    assert "no longer a configured principal" in gone.json()["error"]["message"]
    actions = [r["action"] for r in read_audit(stack.deck.store) if r["subject"] == token_id]
    assert actions == ["token_create", "token_revoke"]


def test_listing_tokens_is_audited_on_the_cli_and_over_rest(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every token action is on record, listing included: who looked, from where, how many."""
    assert stack.deck is not None
    _, admin = create_token(stack.deck.store, "adam")
    create_token(stack.deck.store, "alice")
    monkeypatch.setenv("MODELDECK_TOKEN", admin)
    listed = run_cli("token", "list")
    assert listed.exit_code == 0, listed.output
    over_rest = httpx.get(
        f"{stack.server_url}/api/tokens", headers={"Authorization": f"Bearer {admin}"}
    )
    assert over_rest.status_code == 200 and len(over_rest.json()) == 2
    rows = [r for r in read_audit(stack.deck.store) if r["action"] == "token_list"]
    assert [(r["actor"], r["surface"], r["detail"]) for r in rows] == [
        ("adam", "cli", {"count": 2}),
        ("adam", "api", {"count": 2}),
    ]
    assert admin not in json.dumps(rows)
