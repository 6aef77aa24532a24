"""The server remembers a token's principal briefly (REST reads do not look every token up in
the store), yet a token revoked through it is refused at once, and never an unknown one."""

from __future__ import annotations

import httpx
import pytest

from modeldeck.errors import PermissionDenied
from modeldeck.server.token_cache import TokenCache
from modeldeck.testing import Stack
from modeldeck.tokens import create_token


def test_a_known_token_is_looked_up_once_per_ttl_and_an_unknown_one_every_time() -> None:
    now = [100.0]
    cache = TokenCache(ttl=5, clock=lambda: now[0])
    lookups: list[str] = []

    def look_up(token: str) -> str:
        lookups.append(token)
        if token != "good":
            raise PermissionDenied("The API token is unknown or revoked.")
        return "alice"

    assert [cache.principal("good", look_up) for _ in range(3)] == ["alice"] * 3
    assert lookups == ["good"]
    now[0] += 5.1
    assert cache.principal("good", look_up) == "alice"
    assert lookups == ["good", "good"]
    for _ in range(2):
        with pytest.raises(PermissionDenied):
            cache.principal("bad", look_up)
    assert lookups.count("bad") == 2
    cache.clear()
    cache.principal("good", look_up)
    assert lookups.count("good") == 3


def test_a_token_revoked_through_the_server_is_refused_on_the_next_call() -> None:
    with Stack(principals=[{"name": "admin", "roles": ["admin"]}]) as stack:
        assert stack.deck is not None
        store = stack.deck.store
        token_id, token = create_token(store, "admin")
        auth = {"Authorization": f"Bearer {token}"}
        url = stack.server_url
        assert httpx.get(f"{url}/api/deployments", headers=auth).status_code == 200
        other_id, other = create_token(store, "admin")
        other_auth = {"Authorization": f"Bearer {other}"}
        assert httpx.get(f"{url}/api/deployments", headers=other_auth).status_code == 200
        revoked = httpx.delete(f"{url}/api/tokens/{other_id}", headers=auth)
        assert revoked.status_code == 200, revoked.text
        refused = httpx.get(f"{url}/api/deployments", headers=other_auth)
        assert refused.status_code == 401, refused.text
        assert httpx.get(f"{url}/api/deployments", headers=auth).status_code == 200
        assert token_id != other_id
