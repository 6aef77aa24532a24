"""OAuth install to several workspaces over Slack's real wire: /slack/install → Slack's consent
→ /slack/oauth_redirect → oauth.v2.access (the strict fake) → installation stored on modeldeck's
own database → a command from that workspace is answered with that workspace's bot token.
No token or client secret reaches a log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import inspect, text

from modeldeck.testing import Stack
from tests.slack.fake_slack import FakeSlack
from tests.slack.replicas import replica
from tests.slack.slack_env import (
    ALICE,
    BOT_TOKEN,
    CHANNEL,
    MU_MODEL,
    SIGNING_SECRET,
    USERS,
)
from tests.slack.slack_wire import SlackSender

# slack_sdk's async client sends the client secret with aiohttp's (deprecated) BasicAuth
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-never-shown-42"
TEAM = "T0SECOND"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN, users=dict(USERS)) as running:
        running.enable_oauth(CLIENT_ID, CLIENT_SECRET)
        yield running


@pytest.fixture
def stack(fake: FakeSlack) -> Iterator[Stack]:
    slack = {
        "signing_secret": SIGNING_SECRET,
        "api_url": fake.api_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "channel": CHANNEL,
    }
    with Stack(slack=slack) as running:
        yield running


def install(stack: Stack, fake: FakeSlack, team: str) -> httpx.Response:
    """A workspace admin clicks Add to Slack, approves, and is sent back to the redirect URL."""
    with httpx.Client(base_url=stack.server_url, timeout=30) as http:
        start = http.get("/slack/install", follow_redirects=False)
        assert start.status_code == 302, start.text
        consent = urlparse(start.headers["location"])
        assert consent.netloc == "slack.com" and consent.path == "/oauth/v2/authorize"
        query = parse_qs(consent.query)
        assert query["client_id"] == [CLIENT_ID] and "files:write" in query["scope"][0]
        cookie = start.headers["set-cookie"].split(";", 1)[0]  # Secure: sent by hand on http
        code = fake.issue_oauth_code(team)
        return http.get(
            "/slack/oauth_redirect",
            params={"code": code, "state": query["state"][0]},
            headers={"cookie": cookie},
        )


@pytest.mark.slow  # 7-14 s on a loaded 2-core machine (debug logging of the whole flow)
def test_install_then_a_command_from_that_workspace_uses_its_token(
    stack: Stack, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    done = install(stack, fake, TEAM)
    assert done.status_code == 200, done.text
    [exchange] = fake.calls("oauth.v2.access", ok=True)
    assert CLIENT_SECRET not in exchange.raw_body  # the secret travels in the Basic auth header
    token = next(t for t, team in fake.tokens.items() if team == TEAM)
    # the installation is on modeldeck's own database
    assert stack.deck is not None
    engine = stack.deck.store.engine
    assert {"slack_bots", "slack_installations", "slack_oauth_states"} <= set(
        inspect(engine).get_table_names()
    )
    with engine.connect() as conn:
        teams = conn.execute(text("SELECT team_id FROM slack_bots")).scalars().all()
    assert teams == [TEAM]
    # a command from that workspace: the chart is uploaded with that workspace's token
    sender = SlackSender(stack.server_url, SIGNING_SECRET)
    try:
        url = fake.response_url()
        resp = sender.command(
            "cost all chart",
            user=ALICE,
            channel=CHANNEL,
            response_url=url,
            trigger_id=fake.trigger_id(),
            team_id=TEAM,
        )
        assert resp.status_code == 200, resp.text
        post = fake.wait_for_response(url)
        assert "Shared" in post.body["text"], post.body
        uploads = [c for c in fake.calls() if c.method.startswith("files.")]
        assert uploads and {c.team for c in uploads} == {TEAM}
        # the hooks post with the installed workspace's token too (no SLACK_BOT_TOKEN here)
        url = fake.response_url()
        sender.command(
            f"deploy {MU_MODEL} mu units=1",
            user=ALICE,
            channel=CHANNEL,
            response_url=url,
            trigger_id=fake.trigger_id(),
            team_id=TEAM,
        )
        card = fake.wait_for_call("chat.postMessage")
        assert card.team == TEAM
        # a workspace that never installed the app is not served
        stranger = fake.response_url()
        resp = sender.command(
            "cost all chart",
            user=ALICE,
            channel=CHANNEL,
            response_url=stranger,
            trigger_id=fake.trigger_id(),
            team_id="T0NEVER",
        )
        assert "Shared" not in resp.text
    finally:
        sender.close()
    assert len([c for c in fake.calls() if c.method == "files.completeUploadExternal"]) == 1
    for secret in (token, CLIENT_SECRET, BOT_TOKEN):
        assert secret not in caplog.text
    assert "xoxb-" not in caplog.text


def test_a_forged_or_replayed_redirect_installs_nothing(stack: Stack, fake: FakeSlack) -> None:
    with httpx.Client(base_url=stack.server_url, timeout=30) as http:
        forged = http.get(
            "/slack/oauth_redirect",
            params={"code": fake.issue_oauth_code(TEAM), "state": "made-up"},
        )
    assert forged.status_code >= 400
    assert fake.calls("oauth.v2.access") == []
    assert install(stack, fake, TEAM).status_code == 200
    assert len(fake.calls("oauth.v2.access", ok=True)) == 1


@pytest.mark.postgres
def test_an_install_on_postgres_serves_every_replica(fake: FakeSlack, postgres_url: str) -> None:
    """Installed through one server, a command reaching the other replica is answered with
    the installed workspace's token: both read the installation from the shared database."""
    slack = {
        "signing_secret": SIGNING_SECRET,
        "api_url": fake.api_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "channel": CHANNEL,
    }
    with Stack(slack=slack, database_url=postgres_url) as running, replica(running) as (_, other):
        assert install(running, fake, TEAM).status_code == 200
        url = fake.response_url()
        resp = other.command(
            "cost all chart",
            user=ALICE,
            channel=CHANNEL,
            response_url=url,
            trigger_id=fake.trigger_id(),
            team_id=TEAM,
        )
        assert resp.status_code == 200
        assert "Shared" in fake.wait_for_response(url).body["text"]
    uploads = [c for c in fake.calls() if c.method.startswith("files.")]
    assert uploads and {c.team for c in uploads} == {TEAM}


def test_an_alert_route_names_the_workspace_it_posts_in(fake: FakeSlack) -> None:
    """Installed in two workspaces: a route with `team` posts with that workspace's bot; an
    alert no route matches goes to the default channel with `notify_team`'s bot."""
    fake.channels["C0OPS"] = True
    slack = {
        "signing_secret": SIGNING_SECRET,
        "api_url": fake.api_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "channel": CHANNEL,
        "notify_team": "T0THIRD",
    }
    routes = [{"kind": "import", "channel": "C0OPS", "team": TEAM}]
    with Stack(slack=slack, alerts={"routes": routes}) as running:
        assert install(running, fake, TEAM).status_code == 200
        assert install(running, fake, "T0THIRD").status_code == 200
        deck = running.deck
        assert deck is not None
        body = {
            "model_name": "qwen3-32b",
            "plan": "mu",
            "capacity": 1,
            "deploy_spec": "MU1",
            "billing_method": "POST_PAY",
            "suffix": "console",
        }
        deck.provider.create_deployment(body)
        deck.refresh()
        imported = fake.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == "C0OPS")
        assert imported.team == TEAM
        from modeldeck.events import DriftDetected

        [dep] = deck.list_deployments()
        deck.emit(DriftDetected(deployment_id=dep.id, stored={"units": 1}, provider={"units": 2}))
        drift = fake.wait_for_call("chat.postMessage", lambda c: c.args["channel"] == CHANNEL)
        assert drift.team == "T0THIRD" and "capacity changed" in drift.args["text"]
