"""Schedule requests go through the normal workflow, approved once for their maximum cost."""

from __future__ import annotations

from contextlib import closing
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from modeldeck.domain import DeploySpec, RequestStatus, ScaleSpec
from modeldeck.errors import ConflictError, PermissionDenied, UserError, ValidationFailed
from modeldeck.grammar import parse
from modeldeck.results import RequestResult
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.schedules.spec import ScheduleLevel, ScheduleSpec
from modeldeck.timeutil import to_beijing, utcnow
from tests.schedules.helpers import MU, PTU, deck_for, deployed, through

OFFICE = 'in=40000 out=4000 at="mon-fri 09:00" in=10000 out=1000 at="mon-fri 19:00"'
POLICY = {"auto_approve_below_usd_per_day": "100", "two_approvers_above_usd_per_day": "100"}


def test_a_schedule_is_priced_and_approved_for_its_highest_level(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d", policy=POLICY)) as deck:
        dep_id = deployed(deck, sandbox)
        alice = deck.resolve_actor("jupyter", "alice")
        result = deck.run(parse(f"schedule {dep_id} {OFFICE}"), alice)
        assert isinstance(result, RequestResult) and result.verb == "schedule"
        req = result.request
        # the estimate is a week (168 h) of the highest level: $6.24/h at 40k/4k on qwen3-max
        week = deck.estimate(
            DeploySpec(
                model=PTU.model, plan="ptu", input_tpm=40000, output_tpm=4000, hours=Decimal(168)
            )
        )
        assert req.estimate is not None
        assert Decimal(req.estimate.total) == Decimal(week.total) == Decimal("1048.32")
        assert "Approved once for its maximum" in req.estimate.notes[0]
        assert "Approved once for its maximum" in result.text
        # its per-day figure is the high level's ($149.76), so the policy asks two approvers,
        # though the low level alone ($37.44/day) is auto-approved
        assert req.status == RequestStatus.PENDING
        assert req.policy.rule == "over $100/day: two approvers"
        low = deck.request_scale(
            ScaleSpec(deployment=dep_id, input_tpm=10000, output_tpm=1000), alice
        )
        assert low.policy.auto_approve
        bob = deck.resolve_actor("slack", "U0BOB")
        assert deck.approve(req.id, bob).outcome == "recorded"
        done = through(deck, req)
        assert done.status == RequestStatus.EXECUTED, done.error
        views = deck.schedules()
        assert [(v.id, v.state, v.deployment_id) for v in views] == [
            (done.refs["schedule"], "active", dep_id)
        ]
        audit = [a["action"] for a in deck.audit(subject=done.refs["schedule"])]
        assert audit == ["schedule_activated"]


def test_a_window_is_priced_for_its_level_over_the_window(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox, MU)
        alice = deck.resolve_actor("jupyter", "alice")
        start = (utcnow() + timedelta(days=2)).replace(microsecond=0)
        end = start + timedelta(hours=6)
        text = f"scale {dep_id} units=8 from={start.isoformat()} until={end.isoformat()}"
        result = deck.run(parse(text), alice)
        assert isinstance(result, RequestResult) and result.verb == "scale"
        req = result.request
        assert req.kind == "schedule" and req.schedule is not None
        assert req.schedule.restore == ScheduleLevel(units=1)  # back to what it runs now
        six_hours = deck.estimate(DeploySpec(model=MU.model, plan="mu", units=8, hours=Decimal(6)))
        assert req.estimate is not None and req.estimate.total == six_hours.total
        assert "Approved once for the window: 8 unit(s) for 6 h" in req.estimate.notes[0]


def _window(dep_id: str, start_in: timedelta, hours: int) -> ScheduleSpec:
    start = utcnow() + start_in
    return ScheduleSpec(
        deployment=dep_id,
        kind="window",
        level=ScheduleLevel(units=8),
        window_from=start,
        window_until=start + timedelta(hours=hours),
    )


def test_windows_in_the_past_or_backwards_are_refused_clearly(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox, MU)
        alice = deck.resolve_actor("jupyter", "alice")
        with pytest.raises(ValidationFailed, match=r"from= \(.*\) is in the past"):
            deck.request_schedule(_window(dep_id, -timedelta(hours=1), 4), alice)
        with pytest.raises(ValidationFailed, match=r"until= .* must be after from="):
            deck.request_schedule(_window(dep_id, timedelta(hours=1), -2), alice)
        assert [r.kind for r in deck.list_requests()] == ["deploy"]  # nothing more stored


def test_what_a_schedule_cannot_be(sandbox: RunningSandbox, tmp_path: Path) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        ptu = deployed(deck, sandbox)
        alice = deck.resolve_actor("jupyter", "alice")
        with pytest.raises(
            UserError, match="Provisioned Throughput deployment: schedule it with in="
        ):
            deck.run(parse(f'schedule {ptu} units=2 at="daily 09:00"'), alice)
        with pytest.raises(PermissionDenied):
            deck.run(parse(f"schedule {ptu} {OFFICE}"), deck.resolve_actor("slack", "U0VICTOR"))
        first = through(deck, deck.run(parse(f"schedule {ptu} {OFFICE}"), alice).request)  # type: ignore[attr-defined]
        assert first.status == RequestStatus.EXECUTED
        with pytest.raises(ConflictError, match="already runs schedule"):
            deck.run(parse(f"schedule {ptu} {OFFICE}"), alice)
        upfront = deployed(deck, sandbox, PTU.model_copy(update={"billing": "upfront", "days": 1}))
        with pytest.raises(UserError, match="billed upfront: scheduled capacity is for hourly"):
            deck.run(parse(f"schedule {upfront} {OFFICE}"), alice)


def test_a_schedule_asked_before_a_hand_change_goes_stale(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox)
        alice = deck.resolve_actor("jupyter", "alice")
        asked = deck.run(parse(f"schedule {dep_id} {OFFICE}"), alice)
        assert isinstance(asked, RequestResult)
        scaled = through(
            deck,
            deck.request_scale(
                ScaleSpec(deployment=dep_id, input_tpm=20000, output_tpm=2000), alice
            ),
        )
        assert scaled.status == RequestStatus.EXECUTED, scaled.error
        outcome = deck.approve(asked.request.id, deck.resolve_actor("slack", "U0BOB"))
        assert outcome.request.status == RequestStatus.STALE
        assert "changed since the request was made" in (outcome.request.error or "")
        assert deck.schedules() == []


def test_a_schedule_that_would_cross_a_hard_budget_needs_an_admin(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    # a budget over the next eight Beijing days: the schedule's daily 09:00-19:00 at 40k/4k
    # ($6.24/h against $1.56/h) adds far more than the $1 left in it
    today = to_beijing(utcnow()).date()
    period = f"{today}..{today + timedelta(days=8)}"
    policy = {"auto_approve_below_usd_per_day": 100_000}
    daily = 'in=40000 out=4000 at="daily 09:00" in=10000 out=1000 at="daily 19:00"'
    with closing(deck_for(sandbox, tmp_path / "d", policy=policy)) as deck:
        dep_id = deployed(deck, sandbox)
        spent = deck.forecast(dep_id, period).forecasts[0].total
    budget = {"name": "search", "scope": "workspace", "amount_usd": str(spent + 1)}
    hard = [{**budget, "hard": True, "period": period}]
    with closing(deck_for(sandbox, tmp_path / "d", policy=policy, budgets=hard)) as deck:
        alice = deck.resolve_actor("jupyter", "alice")
        held = deck.run(parse(f"schedule {dep_id} {daily}"), alice)
        assert isinstance(held, RequestResult)
        request = held.request
        assert request.status == RequestStatus.PENDING
        assert request.policy.approver_role == "admin"
        assert "hard budget search" in request.policy.rule
    roomy = [{**budget, "amount_usd": str(spent + 10_000), "hard": True, "period": period}]
    with closing(deck_for(sandbox, tmp_path / "d", policy=policy, budgets=roomy)) as deck:
        alice = deck.resolve_actor("jupyter", "alice")
        deck.withdraw(request.id, alice)
        easy = deck.run(parse(f"schedule {dep_id} {daily}"), alice)
        assert isinstance(easy, RequestResult)
        assert easy.request.status == RequestStatus.EXECUTED  # under the budget: auto-approved
