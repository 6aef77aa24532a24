"""Open mode is safe by default: who acts comes from the token or the server, never the body;
the server answers only to its own names (no DNS rebinding); it binds only loopback unless
principals are configured or `--insecure-open-mode` is given."""

from __future__ import annotations

import getpass

import httpx
import pytest

from modeldeck.errors import ConfigError
from modeldeck.server.exposure import check_bind, is_loopback, server_principal
from modeldeck.settings import Settings
from modeldeck.testing import Stack
from modeldeck.tokens import create_token

SPEC = {"model": "qwen3-32b", "plan": "mu", "units": 1}


def test_in_open_mode_the_body_never_names_who_acts() -> None:
    """The finding: requested as "alice", approved as "bob", deployed - all named by the body."""
    with Stack(server={"open_mode_principal": "operator"}) as stack:
        api = httpx.Client(base_url=stack.server_url)
        alice = {"principal": "alice", "surface": "api", "roles": ["deployer"]}
        bob = {"principal": "bob", "surface": "slack", "roles": ["approver", "admin"]}
        made = api.post("/api/requests/deploy", json={"spec": SPEC, "actor": alice})
        assert made.status_code == 200, made.text
        assert made.json()["requester"] == "operator"
        approved = api.post(f"/api/requests/{made.json()['id']}/approve", json={"actor": bob})
        assert approved.status_code == 409  # the same caller cannot approve its own request
        assert "cannot approve" in approved.json()["error"]["message"]
        resolved = api.post("/api/actors/resolve", json={"surface": "slack", "external_id": "U0B"})
        assert resolved.json()["principal"] == "operator"

        assert stack.deck is not None  # a token names a different caller
        _, token = create_token(stack.deck.store, "bob")
        by_token = api.post(
            f"/api/requests/{made.json()['id']}/approve",
            json={"actor": alice},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert by_token.status_code == 200 and by_token.json()["outcome"] == "executed"
        api.close()


def test_the_open_mode_identity_defaults_to_the_os_user() -> None:
    assert server_principal(Settings()) == getpass.getuser()
    assert server_principal(Settings(server={"open_mode_principal": "ops"})) == "ops"


@pytest.mark.slow
def test_host_headers_other_than_the_servers_names_are_refused() -> None:
    with Stack(server={"allowed_hosts": ["deck.example.com"]}) as stack:
        port = stack.server_url.rsplit(":", 1)[1]

        def get(host: str, path: str = "/api/requests") -> httpx.Response:
            return httpx.get(f"{stack.server_url}{path}", headers={"Host": host})

        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LOCALHOST"):
            assert get(host).status_code == 200, host
        assert get(f"deck.example.com:{port}").status_code == 200  # [server] allowed_hosts
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", ""):
            refused = get(host)
            assert refused.status_code == 400, host
            assert "allowed_hosts" in refused.json()["error"]["hint"]
        assert get("evil.example", "/metrics").status_code == 400
        assert get("evil.example", "/slack/events").status_code == 400
        assert get("evil.example", "/healthz").status_code == 200  # probes use any Host


def test_the_configured_server_url_is_an_allowed_host() -> None:
    with Stack(server={"url": "https://deck.internal:8443"}) as stack:
        resp = httpx.get(f"{stack.server_url}/api/requests", headers={"Host": "deck.internal"})
        assert resp.status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("deck.example", False),
    ],
)
def test_which_addresses_are_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_open_mode_binds_only_loopback_unless_explicitly_insecure() -> None:
    assert check_bind(Settings(), "127.0.0.1") is None
    with pytest.raises(ConfigError) as err:
        check_bind(Settings(), "0.0.0.0")
    assert "--insecure-open-mode" in str(err.value) and "principals" in str(err.value)
    warning = check_bind(Settings(server={"insecure_open_mode": True}), "0.0.0.0")
    assert warning is not None and "WARNING" in warning and "0.0.0.0" in warning
    team = Settings(principals=[{"name": "alice", "roles": ["admin"]}])
    assert check_bind(team, "0.0.0.0") is None  # tokens are required there
