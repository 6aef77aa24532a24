"""Every number and time a user types has a range (the limit in the error text), nothing reaches
an OverflowError, a stuck request can always be resolved, and none blocks the reconciler."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from modeldeck.audit import read_audit
from modeldeck.cli import cli
from modeldeck.deck import Deck
from modeldeck.domain import DeploySpec, LimitsSpec, RequestStatus, ScaleSpec
from modeldeck.errors import ConflictError, PermissionDenied, ValidationFailed
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.serving import ServerThread
from modeldeck.store import repo
from modeldeck.tokens import create_token
from tests.workflow.test_targets import PTU
from tests.workflow.wfhelpers import PRINCIPALS, MakeDeck

ONE_UNIT = DeploySpec(model="qwen3-32b", plan="mu", units=1)
PTU_BODY: dict[str, Any] = {"model": PTU, "plan": "ptu", "input_tpm": 10000, "output_tpm": 1000}
TOO_MUCH = [
    ({**PTU_BODY, "input_tpm": 10**22}, "at most 100,000,000 TPM"),
    ({**PTU_BODY, "hours": "1e999999"}, "at most 87,840 hours"),
    ({**PTU_BODY, "days": 10**12}, "at most 3,660 days"),
    (
        {**PTU_BODY, "billing": "upfront", "start": "9999-12-31T23:59:59"},
        "outside the order calendar",
    ),
    ({**PTU_BODY, "billing": "upfront", "start": "0001-01-01T00:00:00"}, "from 2020-01-01"),
    ({"model": "qwen3-32b", "plan": "mu", "units": 10**6}, "from 1 to 999"),
]


@pytest.mark.parametrize(("body", "limit"), TOO_MUCH)
def test_out_of_range_specs_are_refused_with_the_limit(
    make_deck: MakeDeck, body: dict[str, Any], limit: str
) -> None:
    deck = make_deck()
    with pytest.raises(ValidationFailed, match=limit):
        deck.estimate(DeploySpec.model_validate(body))
    with pytest.raises(ValidationFailed, match=limit):
        deck.request_deploy(DeploySpec.model_validate(body), deck.resolve_actor("jupyter", "alice"))
    assert deck.list_requests() == []


def test_the_rest_api_answers_4xx_with_the_limit(make_deck: MakeDeck) -> None:
    from modeldeck.server import create_app

    deck = make_deck(principals=[])
    actor = {"principal": "alice", "surface": "api", "roles": ["deployer"]}
    with (
        ServerThread(create_app(deck, deck.settings)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        for body, limit in TOO_MUCH:
            for path, payload in (
                ("/api/estimate", body),
                ("/api/requests/deploy", {"spec": body, "actor": actor}),
            ):
                resp = http.post(path, json=payload)
                assert resp.status_code in (400, 422), (path, resp.status_code, resp.text)
                assert limit in resp.text, (path, resp.text)
        for period in ("0001-01", "0001-01-01..0001-02-01", "2026-01-01..9999-12-31"):
            resp = http.get("/api/cost", params={"target": "all", "period": period})
            assert resp.status_code == 400, (period, resp.text)
            assert "outside the billing calendar" in resp.text
    assert deck.list_requests() == []


def test_scale_and_limits_are_bounded(make_deck: MakeDeck, sandbox: RunningSandbox) -> None:
    deck = make_deck(policy={"auto_approve_below_usd_per_day": 100_000})
    alice = deck.resolve_actor("jupyter", "alice")
    dep_id = deck.request_deploy(ONE_UNIT, alice).deployment_id or ""
    with pytest.raises(ValidationFailed, match="from 1 to 999"):
        deck.request_scale(ScaleSpec(deployment=dep_id, units=10**22), alice)
    with pytest.raises(ValidationFailed, match="at most 1,000,000,000 requests per minute"):
        deck.request_limits(LimitsSpec(deployment=dep_id, rpm_limit=10**22), alice)
    with pytest.raises(ValidationFailed, match="positive whole number"):
        deck.request_limits(LimitsSpec(deployment=dep_id, rpm_limit=0), alice)
    assert [r.kind for r in deck.list_requests()] == ["deploy"]


def stuck_request(deck: Deck) -> str:
    """A deploy request left executing (its executor died before recording the outcome)."""
    req = deck.request_deploy(ONE_UNIT, deck.resolve_actor("jupyter", "alice"))
    with deck.store.session() as session:
        repo.transition(session, req.id, RequestStatus.PENDING, RequestStatus.EXECUTING)
    return req.id


def test_an_unexpected_error_in_execution_fails_the_request_and_reconcile_goes_on(
    make_deck: MakeDeck, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    deck = make_deck()
    req = deck.request_deploy(ONE_UNIT, deck.resolve_actor("jupyter", "alice"))

    def overflow(*_: Any, **__: Any) -> Any:
        raise OverflowError("int too large to convert")

    monkeypatch.setattr(deck.provider, "create_deployment", overflow)
    done = deck.approve(req.id, deck.resolve_actor("slack", "U0BOB"))
    assert done.outcome == "failed"
    assert done.request.status == RequestStatus.FAILED
    assert "Unexpected error (OverflowError)" in (done.request.error or "")
    assert "int too large" not in (done.request.error or "")  # only the kind is stored
    assert deck.refresh() == []  # the next reconcile pass runs
    assert [r["action"] for r in read_audit(deck.store, subject=req.id)][-1] == "failed"


def test_an_admin_resolves_a_stuck_request(make_deck: MakeDeck, sandbox: RunningSandbox) -> None:
    deck = make_deck()
    request_id = stuck_request(deck)
    with pytest.raises(PermissionDenied, match="may not configure"):
        deck.resolve_request(request_id, deck.resolve_actor("slack", "U0BOB"))
    dave = deck.resolve_actor("jupyter", "dave")
    done = deck.resolve_request(request_id, dave, "executor died")
    assert done.status == RequestStatus.FAILED
    assert done.error is not None and done.error.startswith("Resolved by dave: executor died")
    with pytest.raises(ConflictError, match="not stuck"):
        deck.resolve_request(request_id, dave)
    entry = read_audit(deck.store, subject=request_id)[-1]
    assert (entry["actor"], entry["action"]) == ("dave", "failed")
    deck.refresh()  # and the reconciler has nothing left to recover
    assert deck.get_request(request_id).status == RequestStatus.FAILED


def test_requests_resolve_on_the_command_line(
    make_deck: MakeDeck, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deck = make_deck()
    request_id = stuck_request(deck)
    config = tmp_path / "modeldeck.toml"
    lines = []
    for p in PRINCIPALS:
        lines += ["[[principals]]", f'name = "{p["name"]}"', f"roles = {p['roles']!r}", ""]
    config.write_text("\n".join(lines).replace("'", '"'))
    monkeypatch.setenv("MODELDECK_CONFIG", str(config))
    monkeypatch.setenv("MODELDECK_DATA_DIR", str(deck.settings.data_dir))
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.setenv("MODELDECK_TOKEN_FILE", str(tmp_path / "no-token-file"))
    monkeypatch.setenv("MODELDECK_USER", "dave")  # team mode: the token decides, not this
    runner = CliRunner()
    monkeypatch.setenv("MODELDECK_TOKEN", create_token(deck.store, "victor")[1])
    refused = runner.invoke(cli, ["requests", "resolve", request_id])
    assert refused.exit_code == 2 and "victor may not configure" in refused.output
    monkeypatch.setenv("MODELDECK_TOKEN", create_token(deck.store, "dave")[1])
    done = runner.invoke(cli, ["requests", "resolve", request_id, "--reason", "stuck"])
    assert done.exit_code == 0, done.output
    assert f"{request_id} is now failed: Resolved by dave: stuck" in done.output


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        (f"estimate {PTU} ptu in=10000000000000000000000 out=1000", "at most 15 digits"),
        ("estimate qwen3-32b mu units=99999999999999999999999", "at most 15 digits"),
        (f"estimate {PTU} ptu in=10000 out=1000 billing=upfront days=10**30", "whole number"),
        (
            f"estimate {PTU} ptu in=10000 out=1000 billing=upfront days=99999999999999999999",
            "at most 15 digits",
        ),
        (f"estimate {PTU} ptu in=200000000 out=1000", "at most 100,000,000 TPM"),
        (f"estimate {PTU} ptu in=10000 out=1000 hours=90000", "at most 87,840 hours"),
        (
            f"estimate {PTU} ptu in=10000 out=1000 billing=upfront days=7 "
            "start=9999-12-31T23:59:59",
            "outside the order calendar",
        ),
        ("cost all period=0001-01", "outside the billing calendar"),
        (  # shown as typed, never with year 1's local mean time offset (+08:05:43)
            f"estimate {PTU} ptu in=10000 out=1000 billing=upfront days=7 "
            "start=0001-01-01T00:00:00",
            "start=0001-01-01T00:00:00 is outside the order calendar",
        ),
    ],
)
def test_typed_numbers_out_of_range_name_a_limit(
    make_deck: MakeDeck, text: str, limit: str
) -> None:
    """Through the grammar (CLI, Slack, notebook) every refusal says what the limit is."""
    from modeldeck.errors import UserError
    from modeldeck.grammar import parse

    deck = make_deck()
    with pytest.raises(UserError, match=re.escape(limit)):
        deck.run(parse(text), deck.resolve_actor("jupyter", "alice"))
