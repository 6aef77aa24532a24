"""The approval policy: every threshold, self-approval, distinct approvers, expiry, unpublish.

The table tests ask the policy hook directly (as the deck does); the workflow tests run real
requests on a deck over a real sandbox and count what Model Studio ends up holding.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from modeldeck import plugins
from modeldeck.audit import read_audit
from modeldeck.deck import Deck
from modeldeck.domain import (
    Actor,
    DeploySpec,
    Estimate,
    PolicyDecision,
    RequestRecord,
    RequestStatus,
)
from modeldeck.errors import ConflictError, PermissionDenied, UserError
from modeldeck.grammar import parse
from modeldeck.hookspecs import hookimpl
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.settings import Settings
from modeldeck.store.models import OrderRow, RequestRow
from modeldeck.timeutil import utcnow
from tests.workflow.wfhelpers import MakeDeck, daily_estimate, sandbox_deployments

MU = "qwen3-32b"
PTU = "qwen3-max-2025-09-23"
TEAM_POLICY = {
    "auto_approve_below_usd_per_day": Decimal("50"),
    "approvers_required": 1,
    "two_approvers_above_usd_per_day": Decimal("2000"),
    "two_approvers_for_upfront": True,
}


def decide(
    policy: dict[str, Any],
    estimate: Estimate | None,
    *,
    kind: str = "deploy",
    billing: str = "hourly",
) -> PolicyDecision:
    """What the policy hook decides for a request of `kind` costing `estimate`."""
    spec = None
    if kind == "deploy":
        plan = "ptu" if billing == "upfront" else "mu"
        spec = DeploySpec(model=MU if plan == "mu" else PTU, plan=plan, billing=billing)
    request = RequestRecord(
        id="req_policy",
        kind=kind,
        status=RequestStatus.PENDING,
        requester="alice",
        surface="cli",
        deploy=spec,
        deployment_id=None if kind == "deploy" else "dep_1",
        estimate=estimate,
        policy=PolicyDecision(auto_approve=False, rule="pending policy"),
        created_at=utcnow(),
    )
    decision: PolicyDecision = plugins.hook().evaluate_policy(
        request=request, estimate=estimate, settings=Settings(policy=policy)
    )
    return decision


def required(decision: PolicyDecision) -> int:
    return 0 if decision.auto_approve else decision.approvers_required


# --- the table ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_day", "billing", "overrides", "expected"),
    [
        ("0", "hourly", {}, 0),
        ("49.99", "hourly", {}, 0),  # below the auto-approve threshold
        ("50", "hourly", {}, 1),  # "below" is strict: at the threshold an approver decides
        ("1999.99", "hourly", {}, 1),
        ("2000", "hourly", {}, 1),  # "above" is strict too
        ("2000.01", "hourly", {}, 2),  # above the second threshold: two approvers
        ("0.01", "upfront", {}, 2),  # upfront orders are non-refundable: always two
        ("0.01", "monthly", {}, 2),  # a monthly MU package is an upfront order as well
        ("10", "upfront", {"two_approvers_for_upfront": False}, 0),
        ("100", "upfront", {"two_approvers_for_upfront": False}, 1),
        ("5000", "upfront", {"two_approvers_for_upfront": False}, 2),
        ("100", "hourly", {"approvers_required": 3}, 3),
        ("5000", "hourly", {"approvers_required": 3}, 3),  # never fewer than configured
        ("1", "upfront", {"approvers_required": 3}, 3),
        ("1000000", "hourly", {"two_approvers_above_usd_per_day": None}, 1),
        ("0", "hourly", {"auto_approve_below_usd_per_day": 0}, 1),  # the default: no auto
    ],
)
def test_policy_table(per_day: str, billing: str, overrides: dict[str, Any], expected: int) -> None:
    estimate = daily_estimate(per_day, billing)
    decision = decide({**TEAM_POLICY, **overrides}, estimate, billing=billing)
    assert required(decision) == expected, decision
    assert decision.auto_approve == (expected == 0)
    assert decision.rule  # the card shows which rule applied


def test_rules_name_the_threshold_that_applied() -> None:
    assert "50" in decide(TEAM_POLICY, daily_estimate("10")).rule
    assert "2000" in decide(TEAM_POLICY, daily_estimate("2500")).rule
    assert "upfront" in decide(TEAM_POLICY, daily_estimate("1", "upfront"), billing="upfront").rule


@pytest.mark.parametrize(
    ("per_hour", "expected"),
    [("2.08", 0), ("2.09", 1), ("83.33", 1), ("83.34", 2)],  # x24: 49.92 50.16 1999.92 2000.16
)
def test_an_hourly_figure_counts_as_24_hours_a_day(per_hour: str, expected: int) -> None:
    estimate = Estimate(
        model=MU,
        plan="mu",
        mode="instruct",
        billing="hourly",
        total="1",
        period="1 h",
        per_hour=per_hour,
    )
    assert required(decide(TEAM_POLICY, estimate)) == expected


def test_real_estimates_meet_the_thresholds(make_deck: MakeDeck) -> None:
    deck = make_deck()
    one_unit = deck.estimate(DeploySpec(model=MU, plan="mu", units=1))  # $40/h: $960/day
    three_units = deck.estimate(DeploySpec(model=MU, plan="mu", units=3))  # $2,880/day
    ptu = deck.estimate(DeploySpec(model=PTU, plan="ptu", input_tpm=20000, output_tpm=2000))
    assert Decimal(one_unit.per_day or 0) == 960 and Decimal(ptu.per_day or 0) == Decimal("74.88")
    assert required(decide(TEAM_POLICY, one_unit)) == 1
    assert required(decide(TEAM_POLICY, three_units)) == 2
    assert required(decide(TEAM_POLICY, ptu)) == 1
    assert required(decide({**TEAM_POLICY, "auto_approve_below_usd_per_day": 100}, ptu)) == 0


def test_unpublish_is_confirmed_and_optionally_approved() -> None:
    assert required(decide(TEAM_POLICY, None, kind="unpublish")) == 0
    needs = decide({**TEAM_POLICY, "unpublish_needs_approval": True}, None, kind="unpublish")
    assert required(needs) == 1


money = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(
    per_day=money,
    auto_below=money,
    two_above=st.none() | money,
    approvers=st.integers(min_value=1, max_value=4),
    billing=st.sampled_from(["hourly", "upfront", "monthly"]),
    two_for_upfront=st.booleans(),
)
def test_any_estimate_gets_the_documented_decision(
    per_day: Decimal,
    auto_below: Decimal,
    two_above: Decimal | None,
    approvers: int,
    billing: str,
    two_for_upfront: bool,
) -> None:
    """Upfront first, then the second threshold, then auto-approval, else the approvers."""
    policy = {
        "auto_approve_below_usd_per_day": auto_below,
        "approvers_required": approvers,
        "two_approvers_above_usd_per_day": two_above,
        "two_approvers_for_upfront": two_for_upfront,
    }
    decision = decide(policy, daily_estimate(str(per_day), billing), billing=billing)
    upfront = billing != "hourly" and two_for_upfront
    if upfront or (two_above is not None and per_day > two_above):
        expected = max(2, approvers)
    elif per_day < auto_below:
        expected = 0
    else:
        expected = approvers
    assert required(decision) == expected


@settings(max_examples=200, deadline=None)
@given(
    costs=st.tuples(money, money),
    auto_below=money,
    two_above=st.none() | money,
    approvers=st.integers(min_value=1, max_value=4),
)
def test_a_dearer_request_never_needs_fewer_approvers(
    costs: tuple[Decimal, Decimal], auto_below: Decimal, two_above: Decimal | None, approvers: int
) -> None:
    cheap, dear = sorted(costs)
    policy = {
        "auto_approve_below_usd_per_day": auto_below,
        "approvers_required": approvers,
        "two_approvers_above_usd_per_day": two_above,
    }
    assert required(decide(policy, daily_estimate(str(cheap)))) <= required(
        decide(policy, daily_estimate(str(dear)))
    )


# --- requests on a real deck ----------------------------------------------------------------


WHERE = {"bob": ("slack", "U0BOB"), "carol": ("slack", "U0CAROL")}  # the rest use notebooks


def actor(deck: Deck, name: str) -> Actor:
    surface, user = WHERE.get(name, ("jupyter", name))
    return deck.resolve_actor(surface, user)  # type: ignore[arg-type]


def test_below_the_threshold_a_deploy_runs_at_once(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck(policy={"auto_approve_below_usd_per_day": 1000})
    req = deck.request_deploy(DeploySpec(model=MU, plan="mu", units=1), actor(deck, "alice"))
    assert req.status == RequestStatus.EXECUTED and req.policy.auto_approve
    assert len(sandbox_deployments(sandbox)) == 1
    actions = [(r["actor"], r["action"]) for r in read_audit(deck.store, subject=req.id)]
    assert actions[:2] == [("alice", "request"), ("policy", "auto_approve")]
    assert actions[2][1] == "executed"


def test_the_requester_cannot_approve_even_with_the_approver_role(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck()
    pat = actor(deck, "pat")  # deployer and approver
    req = deck.request_deploy(DeploySpec(model=MU, plan="mu", units=1), pat, "eval")
    with pytest.raises(ConflictError, match=f"You requested {req.id}, so you cannot approve it"):
        deck.approve(req.id, pat)
    with pytest.raises(ConflictError, match="cannot approve"):
        deck.run(parse(f"approve {req.id}"), pat)  # the grammar says the same
    dave = actor(deck, "dave")  # an admin requesting is no different
    own = deck.request_deploy(DeploySpec(model=MU, plan="mu", units=1), dave)
    with pytest.raises(ConflictError, match="cannot approve"):
        deck.approve(own.id, dave)
    assert deck.get_request(req.id).decisions == [] and sandbox_deployments(sandbox) == []


def test_two_distinct_approvers_for_an_upfront_order(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck(policy=TEAM_POLICY)
    spec = DeploySpec(
        model=PTU, plan="ptu", billing="upfront", input_tpm=20000, output_tpm=2000, days=1
    )
    req = deck.request_deploy(spec, actor(deck, "alice"), "launch week")
    assert req.status == RequestStatus.PENDING and req.policy.approvers_required == 2
    bob, carol = actor(deck, "bob"), actor(deck, "carol")

    first = deck.approve(req.id, bob)
    assert first.outcome == "recorded" and "(1 of 2)" in first.message
    again = deck.approve(req.id, bob)  # the same approver twice counts once
    assert again.outcome == "already_decided" and "already voted" in again.message
    assert deck.get_request(req.id).status == RequestStatus.PENDING
    assert sandbox_deployments(sandbox) == []

    second = deck.approve(req.id, carol)
    assert second.outcome == "executed", second.message
    assert [d.principal for d in second.request.decisions] == ["bob", "carol"]
    assert len(sandbox_deployments(sandbox)) == 1
    with deck.store.session() as session:
        assert session.scalar(select(func.count()).select_from(OrderRow)) == 1
    late = deck.approve(req.id, actor(deck, "dave"))
    assert late.outcome == "already_decided"
    assert "was already executed (by bob, carol)" in late.message


def test_above_the_second_threshold_two_approvers_and_the_requester_never_counts(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck(policy=TEAM_POLICY)
    dave = actor(deck, "dave")  # an admin requester: may approve others', never their own
    req = deck.request_deploy(DeploySpec(model=MU, plan="mu", units=3), dave)
    assert req.policy.approvers_required == 2
    with pytest.raises(ConflictError):
        deck.approve(req.id, dave)
    assert deck.approve(req.id, actor(deck, "bob")).outcome == "recorded"
    assert deck.get_request(req.id).status == RequestStatus.PENDING
    assert deck.approve(req.id, actor(deck, "pat")).outcome == "executed"
    assert len(sandbox_deployments(sandbox)) == 1


def test_a_rejection_ends_the_request(make_deck: MakeDeck, sandbox: RunningSandbox) -> None:
    deck = make_deck(policy=TEAM_POLICY)
    req = deck.request_deploy(DeploySpec(model=MU, plan="mu", units=3), actor(deck, "alice"))
    assert deck.approve(req.id, actor(deck, "bob")).outcome == "recorded"
    no = deck.reject(req.id, actor(deck, "carol"), "too dear")
    assert no.outcome == "rejected" and no.request.status == RequestStatus.REJECTED
    after = deck.approve(req.id, actor(deck, "pat"))
    assert after.outcome == "already_decided" and "already rejected" in after.message
    assert sandbox_deployments(sandbox) == []


def test_requests_expire_after_the_ttl(make_deck: MakeDeck, sandbox: RunningSandbox) -> None:
    deck = make_deck()
    req = deck.request_deploy(DeploySpec(model=MU, plan="mu", units=1), actor(deck, "alice"))
    assert req.expires_at is not None and req.expires_at - req.created_at == timedelta(hours=24)
    short = make_deck(policy={"request_ttl": "90m"})
    other = short.request_deploy(DeploySpec(model=MU, plan="mu", units=1), actor(short, "alice"))
    assert other.expires_at is not None
    assert other.expires_at - other.created_at == timedelta(minutes=90)

    with deck.store.session() as session:  # the day has passed
        session.execute(
            update(RequestRow)
            .where(RequestRow.id == req.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    outcome = deck.approve(req.id, actor(deck, "bob"))
    assert outcome.outcome == "already_decided"
    assert outcome.request.status == RequestStatus.EXPIRED
    assert "expired before enough approvals came in" in outcome.message
    assert deck.list_requests("pending") == []
    assert [r["action"] for r in read_audit(deck.store, subject=req.id)] == ["request", "expire"]
    assert sandbox_deployments(sandbox) == []


def test_a_request_that_expires_while_the_approver_decides_is_not_approved(
    make_deck: MakeDeck, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The expiry is checked again under the request's lock, not only before it."""
    deck = make_deck()
    req = deck.request_deploy(DeploySpec(model=MU, plan="mu", units=1), actor(deck, "alice"))
    from modeldeck.workflow import decisions

    real_expire = decisions.expire_due

    def expire_just_after_the_check(ctx: object) -> None:
        real_expire(deck)
        with deck.store.session() as session:
            session.execute(
                update(RequestRow)
                .where(RequestRow.id == req.id)
                .values(expires_at=utcnow() - timedelta(microseconds=1))
            )

    monkeypatch.setattr(decisions, "expire_due", expire_just_after_the_check)
    outcome = deck.approve(req.id, actor(deck, "bob"))
    assert outcome.request.status == RequestStatus.EXPIRED and outcome.request.decisions == []
    assert sandbox_deployments(sandbox) == []


def test_unpublish_needs_confirm_and_optionally_an_approval(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck(policy={"auto_approve_below_usd_per_day": 1000})
    alice = actor(deck, "alice")
    req = deck.request_deploy(DeploySpec(model=MU, plan="mu", units=1), alice)
    dep = deck.get_deployment(req.deployment_id or "")
    code = dep.deployed_model or dep.id
    with pytest.raises(UserError, match=f"unpublish {code} confirm"):
        deck.run(parse(f"unpublish {code}"), alice)
    assert deck.list_requests() == [deck.get_request(req.id)]  # nothing was asked

    strict = make_deck(
        database_url=deck.settings.effective_database_url,
        policy={"auto_approve_below_usd_per_day": 1000, "unpublish_needs_approval": True},
    )
    result = strict.run(parse(f"unpublish {code} confirm"), alice)
    pending = [r for r in strict.list_requests("pending") if r.kind == "unpublish"]
    assert result.ok and len(pending) == 1 and pending[0].policy.approvers_required == 1
    assert [d["deployed_model"] for d in sandbox_deployments(sandbox)] == [code]
    done = strict.approve(pending[0].id, actor(strict, "bob"))
    assert done.outcome == "executed", done.message
    assert strict.get_deployment(dep.id).status == "DELETING"

    lax = make_deck(policy={"auto_approve_below_usd_per_day": 1000})
    second = DeploySpec(model=MU, plan="mu", units=1, suffix="two")  # a second Model Code
    other = lax.request_deploy(second, actor(lax, "alice"))
    assert other.status == RequestStatus.EXECUTED, other.error
    other_code = lax.get_deployment(other.deployment_id or "").deployed_model
    gone = lax.run(parse(f"unpublish {other_code} confirm"), actor(lax, "alice"))
    assert gone.ok and gone.request.status == "executed"  # type: ignore[attr-defined]  # confirmed: no approver needed


# --- the hook -------------------------------------------------------------------------------


class FinancePolicy:
    """A plugin: deploys of qwen3-32b need three admins; everything else defers (None)."""

    @hookimpl
    def evaluate_policy(
        self, request: RequestRecord, estimate: Estimate | None, settings: Settings
    ) -> PolicyDecision | None:
        if request.deploy is None or request.deploy.model != MU:
            return None
        return PolicyDecision(
            auto_approve=False,
            approvers_required=3,
            rule="finance: three admins for qwen3-32b",
            approver_role="admin",
        )


def test_a_policy_plugin_overrides_the_default(make_deck: MakeDeck) -> None:
    plugins.get_plugin_manager().register(FinancePolicy(), name="finance-policy")
    deck = make_deck(policy={"auto_approve_below_usd_per_day": 1_000_000})
    alice = actor(deck, "alice")
    ours = deck.request_deploy(DeploySpec(model=MU, plan="mu", units=1), alice)
    assert ours.status == RequestStatus.PENDING  # the default would have auto-approved it
    assert ours.policy.rule == "finance: three admins for qwen3-32b"
    assert ours.policy.approvers_required == 3
    with pytest.raises(PermissionDenied, match="role admin"):
        deck.approve(ours.id, actor(deck, "bob"))  # an approver, but not of this group
    recorded = deck.approve(ours.id, actor(deck, "dave"))
    assert recorded.outcome == "recorded" and "(1 of 3)" in recorded.message
    theirs = deck.request_deploy(
        DeploySpec(model=PTU, plan="ptu", input_tpm=20000, output_tpm=2000), alice
    )
    assert theirs.status == RequestStatus.EXECUTED  # None: the default policy decided
