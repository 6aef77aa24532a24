"""Who acts: the team-mode CLI acts as its token's principal (never MODELDECK_USER's name),
creating tokens needs an admin's token or a one-time --bootstrap, and only a surface's service
identity may set a request's refs (audited)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from modeldeck.audit import read_audit
from modeldeck.cli import _add_grammar_commands, cli
from modeldeck.domain import Actor, DeploySpec
from modeldeck.store import Store
from modeldeck.testing import Stack
from modeldeck.tokens import create_token
from tests.workflow.test_tokens import CONFIG, TOKEN, read_audit_at

TEAM_CONFIG = (
    CONFIG
    + """
[[principals]]
name = "slackbot"
roles = ["service"]
"""
)


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A team's data dir (principals configured) used by the CLI in-process, no server."""
    config = tmp_path / "modeldeck.toml"
    config.write_text(TEAM_CONFIG)
    monkeypatch.setenv("MODELDECK_CONFIG", str(config))
    monkeypatch.setenv("MODELDECK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MODELDECK_TOKEN_FILE", str(tmp_path / "no-token-file"))
    monkeypatch.delenv("MODELDECK_TOKEN", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.setenv("MODELDECK_USER", "adam")  # an admin's name: it must never count
    yield tmp_path / "data"


def store_of(data: Path) -> Store:
    data.mkdir(parents=True, exist_ok=True)
    return Store(f"sqlite:///{data / 'modeldeck.db'}")


def test_the_team_cli_acts_as_the_tokens_principal_not_modeldeck_user(
    team: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_grammar_commands()  # what the console script's main() does first
    refused = CliRunner().invoke(cli, ["approvals"])
    assert refused.exit_code != 0
    assert "acts as your API token's principal" in refused.output
    store = store_of(team)
    _, alice = create_token(store, "alice")
    token_file = tmp_path / "token"
    token_file.write_text(alice + "\n")  # a mounted secret file ends in a newline
    monkeypatch.setenv("MODELDECK_TOKEN_FILE", str(token_file))
    made = CliRunner().invoke(cli, ["estimate", "qwen3-32b", "mu", "units=1"])
    assert made.exit_code == 0, made.output
    asked = CliRunner().invoke(cli, ["deploy", "qwen3-32b", "mu", "units=1"])
    assert asked.exit_code == 0, asked.output
    requests = [r for r in read_audit_at(team) if r["action"] == "request"]
    assert [r["actor"] for r in requests] == ["alice"]  # not adam, MODELDECK_USER's name
    _, victor = create_token(store, "victor")
    monkeypatch.setenv("MODELDECK_TOKEN", victor)  # the variable wins over the file
    denied = CliRunner().invoke(cli, ["requests", "resolve", "req_x"])
    assert denied.exit_code == 2 and "victor may not configure" in denied.output
    store.dispose()


def test_token_create_needs_an_admin_token_or_a_one_time_bootstrap(
    team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    nothing = runner.invoke(cli, ["token", "create", "adam"])
    assert nothing.exit_code == 2 and "needs an admin's API token" in nothing.output
    not_admin = runner.invoke(cli, ["token", "create", "alice", "--bootstrap"])
    assert not_admin.exit_code == 2 and "'alice' is not an admin" in not_admin.output
    first = runner.invoke(cli, ["token", "create", "adam", "--bootstrap"])
    assert first.exit_code == 0, first.output
    (admin,) = TOKEN.findall(first.output)
    again = runner.invoke(cli, ["token", "create", "adam", "--bootstrap"])
    assert again.exit_code == 2 and "--bootstrap is closed" in again.output

    store = store_of(team)
    _, alice = create_token(store, "alice")
    monkeypatch.setenv("MODELDECK_TOKEN", alice)
    deployer = runner.invoke(cli, ["token", "create", "alice"])
    assert deployer.exit_code == 2 and "alice may not configure" in deployer.output
    monkeypatch.setenv("MODELDECK_TOKEN", admin)
    made = runner.invoke(cli, ["token", "create", "victor"])
    assert made.exit_code == 0, made.output
    token_id = made.output.split()[1]
    revoked = runner.invoke(cli, ["token", "revoke", token_id])
    assert revoked.exit_code == 0, revoked.output
    audit = [(r["actor"], r["action"], r["detail"].get("principal")) for r in read_audit(store)]
    assert ("adam", "token_create", "adam") in audit
    assert ("adam", "token_create", "victor") in audit
    assert ("adam", "token_revoke", "victor") in audit
    store.dispose()


def test_only_the_service_identity_sets_request_refs(team: Path) -> None:
    with Stack(data_dir=team) as stack:
        assert stack.deck is not None
        deck = stack.deck
        tokens = {n: create_token(deck.store, n)[1] for n in ("alice", "victor", "slackbot")}
        actor = Actor(principal="alice", surface="jupyter", roles=["deployer"])
        req = deck.request_deploy(DeploySpec(model="qwen3-32b", plan="mu", units=1), actor)
        ref = {"key": "slack_ts", "value": "1700000000.000100"}
        url = f"{stack.server_url}/api/requests/{req.id}/refs"
        for who in ("victor", "alice"):
            resp = httpx.put(url, json=ref, headers={"Authorization": f"Bearer {tokens[who]}"})
            assert resp.status_code == 403, (who, resp.text)
            assert f"{who} may not refs" in resp.text
        assert deck.get_request(req.id).refs == {}
        ok = httpx.put(url, json=ref, headers={"Authorization": f"Bearer {tokens['slackbot']}"})
        assert ok.status_code == 200, ok.text
        assert deck.get_request(req.id).refs == {"slack_ts": "1700000000.000100"}
        (entry,) = [r for r in read_audit(deck.store, subject=req.id) if r["action"] == "set_ref"]
        assert entry["actor"] == "slackbot"
        assert entry["detail"] == {"key": "slack_ts", "value": "1700000000.000100"}
