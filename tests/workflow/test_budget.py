"""Policy over a window: auto-approve budgets per requester and per workspace, so splitting an
order into small requests does not escape an approver."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from modeldeck.domain import DeploySpec, PolicyDecision, RequestRecord, RequestStatus
from modeldeck.settings import Settings
from modeldeck.timeutil import utcnow
from modeldeck.workflow import policy
from tests.workflow.test_targets import PTU, who
from tests.workflow.wfhelpers import MakeDeck, daily_estimate

SMALL = DeploySpec(model=PTU, plan="ptu", input_tpm=10000, output_tpm=1000)  # $37.44/day


def test_five_small_orders_are_not_all_auto_approved_under_a_daily_budget(
    make_deck: MakeDeck,
) -> None:
    """The finding: five $37.44/day orders ($187.20/day together) all ran under $100/day."""
    deck = make_deck(
        policy={"auto_approve_below_usd_per_day": 100, "auto_approve_budget_usd_per_day": 100}
    )
    alice = who(deck, "alice")
    made = [
        deck.request_deploy(SMALL.model_copy(update={"suffix": f"part{i}"}), alice)
        for i in range(5)
    ]
    assert [r.policy.auto_approve for r in made] == [True, True, False, False, False]
    assert [r.status for r in made[:2]] == [RequestStatus.EXECUTED] * 2
    assert all(r.status == RequestStatus.PENDING for r in made[2:])
    rule = made[2].policy.rule
    assert "alice's auto-approve budget of $100/day" in rule and "$74.88/day" in rule
    assert made[2].policy.approvers_required == 1


def test_the_workspace_budget_counts_every_requester(make_deck: MakeDeck) -> None:
    deck = make_deck(
        policy={
            "auto_approve_below_usd_per_day": 100,
            "workspace_auto_approve_budget_usd_per_day": 80,
        }
    )
    first = deck.request_deploy(SMALL.model_copy(update={"suffix": "a"}), who(deck, "alice"))
    second = deck.request_deploy(SMALL.model_copy(update={"suffix": "b"}), who(deck, "pat"))
    third = deck.request_deploy(SMALL.model_copy(update={"suffix": "c"}), who(deck, "dave"))
    assert (first.policy.auto_approve, second.policy.auto_approve) == (True, True)
    assert not third.policy.auto_approve and "the workspace's" in third.policy.rule


BUDGET = Decimal("100")
WORKSPACE = Decimal("250")
step = st.tuples(
    st.sampled_from(["alice", "pat", "dave"]),
    st.decimals(min_value=0, max_value=120, places=2),
    st.integers(min_value=0, max_value=30),  # hours since the previous request
)


@settings(max_examples=200, deadline=None)
@given(st.lists(step, max_size=40))
def test_no_sequence_exceeds_a_window_budget_without_an_approval(
    steps: list[tuple[str, Decimal, int]],
) -> None:
    conf = Settings(
        policy={
            "auto_approve_below_usd_per_day": 100,
            "auto_approve_budget_usd_per_day": BUDGET,
            "workspace_auto_approve_budget_usd_per_day": WORKSPACE,
        }
    )
    now = utcnow()
    history: list[RequestRecord] = []
    for n, (requester, per_day, hours) in enumerate(steps):
        now += timedelta(hours=hours)
        estimate = daily_estimate(str(per_day))
        draft = RequestRecord(
            id=f"req_{n}",
            kind="deploy",
            status=RequestStatus.PENDING,
            requester=requester,
            surface="api",
            deploy=DeploySpec(model="qwen3-32b", plan="mu", units=1),
            estimate=estimate,
            policy=PolicyDecision(auto_approve=False, rule="pending"),
            created_at=now,
        )
        start = policy.window_start(conf, now)
        recent = [r for r in history if r.created_at >= start]
        decision = policy.evaluate(draft, estimate, conf, recent)
        status = RequestStatus.EXECUTED if decision.auto_approve else RequestStatus.PENDING
        history.append(draft.model_copy(update={"policy": decision, "status": status}))
        window = [r for r in history if r.created_at >= start]
        for who_ in ("alice", "pat", "dave"):
            assert policy.auto_approved_spend(window, who_) <= BUDGET
        assert policy.auto_approved_spend(window) <= WORKSPACE
        if not decision.auto_approve:
            assert decision.approvers_required >= 1
