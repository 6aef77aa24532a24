"""Two `modeldeck server` processes on one PostgreSQL act as one.

Twenty approvers approve ONE request at the same moment, half over REST and half by signed Slack
clicks, spread over both replicas; the requester, a viewer and an unlinked Slack user click too.
Model Studio (the sandbox) must see exactly one deployment, the request must execute once, and
every person must be told the truth: the one whose approval executed it, that it ran; everyone
else, that it was already decided (and by whom); the others, that they may not.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from modeldeck.audit import read_audit
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.store import Store
from modeldeck.store.models import DeploymentRow
from modeldeck.tokens import create_token
from modeldeck_slack.blocks import APPROVE_ACTION
from tests.slack.fake_slack import Call, FakeSlack
from tests.slack.slack_env import BOT_TOKEN, CHANNEL, SIGNING_SECRET
from tests.slack.slack_wire import SlackSender
from tests.team.teamhelpers import ServerProcess, base_env, start_all, toml_config

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MU = "qwen3-32b"
APPROVERS = [f"appr{i:02d}" for i in range(1, 21)]
REST_APPROVERS, SLACK_APPROVERS = APPROVERS[:10], APPROVERS[10:]
SLACK_ID = {name: f"U0{name.upper()}" for name in APPROVERS}
REQUESTER, VIEWER, STRANGER = "U0ALICE", "U0VICTOR", "U0STRANGER"


def principals() -> list[dict[str, Any]]:
    return [
        {"name": "alice", "slack_user": REQUESTER, "jupyter_user": "alice", "roles": ["deployer"]},
        {"name": "victor", "slack_user": VIEWER, "roles": ["viewer"]},
        *({"name": n, "slack_user": SLACK_ID[n], "roles": ["approver"]} for n in APPROVERS),
    ]


def _addressed_to(user: str) -> Callable[[Call], bool]:
    """Matches a Slack call addressed to `user` (an ephemeral message)."""
    return lambda call: call.args.get("user") == user


def test_twenty_concurrent_approvals_over_two_replicas_execute_once(
    team_db: str, tmp_path: Path, suite_secrets: dict[str, str]
) -> None:
    dashscope_key = suite_secrets["dashscope_api_key"]
    config = tmp_path / "modeldeck.toml"
    config.write_text(
        toml_config(
            principals(),
            workspace={
                "id": "llm-team",
                "full_access": ["alice", *APPROVERS],
                "deployable_models": [MU],
            },
            policy={"approvers_required": 1, "request_ttl": "24h"},
        )
    )
    store = Store(team_db)  # migrates the schema once, before the replicas start
    tokens = {name: create_token(store, name)[1] for name in ["alice", "victor", *REST_APPROVERS]}
    slack_users = {uid: uid.lower() for uid in [REQUESTER, VIEWER, STRANGER, *SLACK_ID.values()]}

    with (
        running_sandbox(api_keys=[dashscope_key]) as sandbox,
        FakeSlack(bot_token=BOT_TOKEN, users=slack_users) as fake,
    ):
        env = {
            **base_env(tmp_path),
            "MODELDECK_CONFIG": str(config),
            "MODELDECK_DATABASE_URL": team_db,
            "MODELDECK_SANDBOX__HOST": sandbox.server.host,
            "MODELDECK_SANDBOX__PORT": str(sandbox.server.port),
            "DASHSCOPE_API_KEY": dashscope_key,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "MODELDECK_SLACK__API_URL": fake.api_url,
            "MODELDECK_SLACK__CHANNEL": CHANNEL,
            "MODELDECK_LOG_LEVEL": "DEBUG",
        }
        servers = [
            ServerProcess(name, {**env, "MODELDECK_DATA_DIR": str(tmp_path / name)}, tmp_path)
            for name in ("replica-a", "replica-b")
        ]
        try:
            start_all(servers)
            run_the_race(servers, tokens, fake, sandbox, dashscope_key, store)
        finally:
            for server in servers:
                server.stop()
        assert fake.everything_recorded()  # the fake did record the traffic it is scanned for
        for server in servers:
            leaks = [s for s in [*suite_secrets.values(), *tokens.values()] if s in server.log()]
            assert not leaks, f"{server.name} logged a secret"
        recorded = fake.everything_recorded()
        assert not [s for s in [*suite_secrets.values(), *tokens.values()] if s in recorded]
    store.dispose()


def run_the_race(
    servers: list[ServerProcess],
    tokens: dict[str, str],
    fake: FakeSlack,
    sandbox: RunningSandbox,
    key: str,
    store: Store,
) -> None:
    a, b = servers
    made = httpx.post(
        f"{a.url}/api/requests/deploy",
        json={
            "spec": {"model": MU, "plan": "mu", "units": 1},
            "actor": {"principal": "alice", "surface": "jupyter"},
            "reason": "team load test",
        },
        headers={"Authorization": f"Bearer {tokens['alice']}"},
        timeout=60,
    )
    assert made.status_code == 200, made.text
    request = made.json()
    rid = request["id"]
    assert request["status"] == "pending" and request["policy"]["approvers_required"] == 1
    card = fake.wait_for_call(
        "chat.postMessage",
        lambda c: rid in str(c.args.get("blocks")) and not c.args.get("thread_ts"),
    )
    ts = str(card.response["ts"])
    message = fake.message(CHANNEL, ts)

    rest_answers: dict[str, httpx.Response] = {}
    clicks: dict[str, httpx.Response] = {}
    jobs: list[Callable[[], None]] = []

    def rest(name: str, server: ServerProcess) -> Callable[[], None]:
        def go() -> None:
            rest_answers[name] = httpx.post(
                f"{server.url}/api/requests/{rid}/approve",
                json={"actor": {"principal": name, "surface": "api"}},
                headers={"Authorization": f"Bearer {tokens[name]}"},
                timeout=120,
            )

        return go

    def click(user: str, server: ServerProcess) -> Callable[[], None]:
        def go() -> None:
            sender = SlackSender(server.url, SIGNING_SECRET)
            try:
                clicks[user] = sender.click(
                    action_id=APPROVE_ACTION,
                    value=rid,
                    user=user,
                    channel=CHANNEL,
                    message_ts=ts,
                    response_url=fake.response_url(),
                    trigger_id=fake.trigger_id(),
                    message={
                        "type": "message",
                        "ts": ts,
                        "text": message.text,
                        "blocks": message.blocks,
                    },
                )
            finally:
                sender.close()

        return go

    for i, name in enumerate(REST_APPROVERS):
        jobs.append(rest(name, servers[i % 2]))
    for i, name in enumerate(SLACK_APPROVERS):
        jobs.append(click(SLACK_ID[name], servers[(i + 1) % 2]))
    jobs += [click(REQUESTER, b), click(VIEWER, a), click(STRANGER, b), rest("victor", b)]

    start = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        start.wait()
        try:
            job()
        except BaseException as exc:  # surfaced below, with the others
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not failures, failures
    acks = {user: resp.status_code for user, resp in clicks.items()}
    assert set(acks.values()) == {200}, acks

    # --- what each approver was told
    told: dict[str, str] = {}
    for name in REST_APPROVERS:
        resp = rest_answers[name]
        assert resp.status_code == 200, resp.text
        told[name] = resp.json()["message"]
    for user in [*(SLACK_ID[n] for n in SLACK_APPROVERS), REQUESTER, VIEWER, STRANGER]:
        call = fake.wait_for_call("chat.postEphemeral", _addressed_to(user))
        told[user] = str(call.args["text"])
    for name in SLACK_APPROVERS:
        told[name] = told.pop(SLACK_ID[name])

    winners = [n for n in APPROVERS if told[n] == f"{rid} approved and executed."]
    assert len(winners) == 1, {n: told[n] for n in APPROVERS}
    (winner,) = winners
    already = re.compile(
        rf"{rid} was already (approved|executing|executed) \(by {winner}\); nothing changed\."
    )
    for name in APPROVERS:
        if name != winner:
            assert already.fullmatch(told[name]), (name, told[name])
    assert "so you cannot approve it" in told[REQUESTER]
    assert "victor may not decide" in told[VIEWER]
    assert "not linked" in told[STRANGER]
    assert rest_answers["victor"].status_code == 403
    assert "victor may not decide" in rest_answers["victor"].json()["error"]["message"]

    # --- what really happened: one deployment at Model Studio, one execution in the store
    listing = httpx.get(
        f"{sandbox.base_url}/deployments", headers={"Authorization": f"Bearer {key}"}
    ).json()["output"]
    assert listing["total"] == 1 and sandbox.sandbox.created_count() == 1
    final = httpx.get(
        f"{b.url}/api/requests/{rid}", headers={"Authorization": f"Bearer {tokens['alice']}"}
    ).json()
    assert final["status"] == "executed"
    assert [d["principal"] for d in final["decisions"]] == [winner]
    actions = [r["action"] for r in read_audit(store, subject=rid)]
    assert actions == ["request", "approve", "executed"]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(DeploymentRow)) == 1
    # the card in the channel was updated in place to the outcome, whichever replica ran it
    fake.wait_for_call(
        "chat.update", lambda c: c.args.get("ts") == ts and "(executed)" in str(c.args.get("text"))
    )
