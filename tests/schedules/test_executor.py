"""The reconciler runs each scheduled change once at its Beijing time, through the scale path,
and pauses (never fights) a schedule whose deployment is gone or was changed by hand."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from modeldeck.deck import Deck
from modeldeck.domain import RequestRecord, RequestStatus, ScaleSpec
from modeldeck.errors import ConflictError, NotFound, PermissionDenied
from modeldeck.grammar import parse
from modeldeck.reconciler import Reconciler
from modeldeck.rendering import render
from modeldeck.results import DeploymentsResult, DeploymentStatusResult, SchedulesResult
from modeldeck.sandbox import FaultRule
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.schedules.calendar import next_change
from modeldeck.store.deployments import capacity_of
from modeldeck.timeutil import BEIJING, utcnow
from tests.schedules.helpers import MU, deck_for, deployed, settled, through

# Neither level is the deployment's own (10,000 / 1,000 TPM): every change is a real scale,
# whatever the time of day the test runs at (the first change due may be either).
OFFICE = 'in=40000 out=4000 at="mon-fri 09:00" in=20000 out=2000 at="mon-fri 19:00"'


def scheduled(deck: Deck, text: str) -> RequestRecord:
    alice = deck.resolve_actor("jupyter", "alice")
    done = through(deck, deck.run(parse(text), alice).request)  # type: ignore[attr-defined]
    assert done.status == RequestStatus.EXECUTED, done.error
    return done


def actions(deck: Deck, schedule_id: str) -> list[str]:
    return [a["action"] for a in deck.audit(subject=schedule_id)]


def capacity(deck: Deck, dep_id: str) -> tuple[int | None, int | None]:
    dep = deck.get_deployment(dep_id)
    return dep.input_tpm, dep.output_tpm


def test_each_change_runs_once_at_its_beijing_time(sandbox: RunningSandbox, tmp_path: Path) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox)
        req = scheduled(deck, f"schedule {dep_id} {OFFICE}")
        schedule_id = req.refs["schedule"]
        assert req.schedule is not None
        first = next_change(req.schedule, utcnow())
        assert first is not None
        assert first.at.astimezone(BEIJING).strftime("%H:%M") in ("09:00", "19:00")
        assert first.at.astimezone(BEIJING).weekday() < 5
        before = capacity(deck, dep_id)
        reconciler = Reconciler(deck)
        assert reconciler.run_once(now=first.at - timedelta(minutes=1)).schedules == []
        assert capacity(deck, dep_id) == before
        fired = reconciler.run_once(now=first.at).schedules
        assert fired == [(schedule_id, "started"), (schedule_id, "applied")]
        wanted = (first.level.input_tpm, first.level.output_tpm)
        assert capacity(deck, dep_id) == wanted
        # at Model Studio too (the sandbox, over its API)
        dep = deck.get_deployment(dep_id)
        info = capacity_of(deck.provider.get_deployment(dep.deployed_model or ""))
        assert (info["input_tpm"], info["output_tpm"]) == wanted
        for later in (first.at, first.at + timedelta(minutes=1), first.at + timedelta(hours=2)):
            assert reconciler.run_once(now=later).schedules == []  # once
        assert actions(deck, schedule_id) == [
            "schedule_activated",
            "scheduled_change_started",
            "scheduled_change_applied",
        ]
        # it ran as a scale request covered by the schedule's approval, through the scale path
        child = [r for r in deck.list_requests() if r.kind == "scale"]
        assert len(child) == 1 and child[0].status == RequestStatus.EXECUTED
        assert child[0].policy.rule == f"covered by schedule {schedule_id} (approved as {req.id})"
        # the surfaces show the next change
        second = next_change(req.schedule, first.at)
        assert second is not None
        alice = deck.resolve_actor("jupyter", "alice")
        listed = deck.run(parse("list"), alice)
        assert isinstance(listed, DeploymentsResult)
        assert listed.next_changes[dep_id].at == second.at
        assert "Scheduled next:" in listed.text
        status = deck.run(parse(f"status {dep_id}"), alice)
        assert isinstance(status, DeploymentStatusResult) and status.schedule is not None
        assert status.schedule.next_change is not None
        assert status.schedule.next_change.at == second.at
        assert "next scheduled change: " in status.text
        as_json = render(status, "json")
        assert as_json["schedule"]["next_change"]["label"] == second.label
        # the next change, once
        settled(deck, sandbox)
        assert [s for _, s in reconciler.run_once(now=second.at).schedules] == [
            "started",
            "applied",
        ]
        assert capacity(deck, dep_id) == (second.level.input_tpm, second.level.output_tpm)
        assert reconciler.run_once(now=second.at + timedelta(seconds=30)).schedules == []


def test_a_window_sets_its_level_then_restores_and_ends(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox, MU)
        start = (utcnow() + timedelta(hours=3)).replace(second=0, microsecond=0)
        end = start + timedelta(hours=5)
        req = scheduled(
            deck, f"scale {dep_id} units=3 from={start.isoformat()} until={end.isoformat()}"
        )
        schedule_id = req.refs["schedule"]
        reconciler = Reconciler(deck)
        assert reconciler.run_once(now=start - timedelta(seconds=1)).schedules == []
        assert deck.get_deployment(dep_id).units == 1
        assert reconciler.run_once(now=start).schedules[-1] == (schedule_id, "applied")
        assert deck.get_deployment(dep_id).units == 3
        settled(deck, sandbox)
        assert reconciler.run_once(now=end - timedelta(minutes=1)).schedules == []
        assert reconciler.run_once(now=end).schedules[-1] == (schedule_id, "applied")
        assert deck.get_deployment(dep_id).units == 1
        view = next(v for v in deck.schedules() if v.id == schedule_id)
        assert view.state == "finished" and view.next_change is None
        assert reconciler.run_once(now=end + timedelta(hours=1)).schedules == []


def test_a_hand_change_pauses_the_schedule_and_it_is_not_fought(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox)
        req = scheduled(deck, f"schedule {dep_id} {OFFICE}")
        schedule_id = req.refs["schedule"]
        assert req.schedule is not None
        first = next_change(req.schedule, utcnow())
        assert first is not None
        reconciler = Reconciler(deck)
        reconciler.run_once(now=first.at)
        # someone scales it by hand (through modeldeck, approved like any scale)
        alice = deck.resolve_actor("jupyter", "alice")
        hand = through(
            deck,
            deck.request_scale(
                ScaleSpec(deployment=dep_id, input_tpm=30000, output_tpm=3000), alice
            ),
        )
        assert hand.status == RequestStatus.EXECUTED, hand.error
        sandbox.advance(5)  # its operation ends at Model Studio
        assert reconciler.run_once(now=first.at + timedelta(minutes=5)).schedules == [
            (schedule_id, "paused")
        ]
        second = next_change(req.schedule, first.at)
        assert second is not None
        assert reconciler.run_once(now=second.at).schedules == []  # never fought
        assert capacity(deck, dep_id) == (30000, 3000)
        assert actions(deck, schedule_id)[-1] == "schedule_paused"
        listed = deck.run(parse("schedules"), alice)
        assert isinstance(listed, SchedulesResult)
        view = listed.schedules[0]
        assert view.state == "paused" and view.next_change is None
        assert view.paused_reason is not None and "changed by hand" in view.paused_reason
        set_by_schedule = first.level.input_tpm  # what the schedule set: 40,000 or 20,000
        assert f"input_tpm {set_by_schedule} -> 30000" in view.paused_reason
        assert "PAUSED: " in listed.text
        status = deck.run(parse(f"status {dep_id}"), alice)
        assert "PAUSED: " in status.text


def test_a_change_at_the_console_pauses_it_too(sandbox: RunningSandbox, tmp_path: Path) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox)
        req = scheduled(deck, f"schedule {dep_id} {OFFICE}")
        code = deck.get_deployment(dep_id).deployed_model or ""
        # the console (Model Studio's own API) changes its capacity behind modeldeck's back
        deck.provider.scale_deployment(
            code, ptu_capacity={"input_tpm": 30000, "output_tpm": 3000}, idempotency_key="console"
        )
        sandbox.advance(5)
        report = Reconciler(deck).run_once()
        assert report.drift  # the reconciler saw it first
        assert report.schedules == [(req.refs["schedule"], "paused")]


def test_a_gone_deployment_pauses_the_schedule(sandbox: RunningSandbox, tmp_path: Path) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox, MU)
        req = scheduled(
            deck, f'schedule {dep_id} units=2 at="daily 09:00" units=1 at="daily 19:00"'
        )
        schedule_id = req.refs["schedule"]
        alice = deck.resolve_actor("jupyter", "alice")
        gone = through(deck, deck.request_unpublish(dep_id, alice))
        assert gone.status == RequestStatus.EXECUTED, gone.error
        sandbox.advance(60)
        reconciler = Reconciler(deck)
        assert (schedule_id, "paused") in reconciler.run_once().schedules
        view = deck.schedules()[0]
        assert view.state == "paused" and "is gone" in (view.paused_reason or "")
        assert req.schedule is not None
        first = next_change(req.schedule, utcnow())
        assert first is not None
        assert reconciler.run_once(now=first.at).schedules == []


def test_a_failed_change_is_reported_and_the_schedule_goes_on(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox)
        req = scheduled(deck, f"schedule {dep_id} {OFFICE}")
        schedule_id = req.refs["schedule"]
        assert req.schedule is not None
        first = next_change(req.schedule, utcnow())
        assert first is not None
        sandbox.sandbox.set_faults(
            [FaultRule(kind="operation_failed", method="PUT", code="NoStock")]
        )
        reconciler = Reconciler(deck)
        assert reconciler.run_once(now=first.at).schedules == [
            (schedule_id, "started"),
            (schedule_id, "failed"),
        ]
        assert capacity(deck, dep_id) == (10000, 1000)
        sandbox.sandbox.set_faults([])
        settled(deck, sandbox)
        second = next_change(req.schedule, first.at)
        assert second is not None
        assert reconciler.run_once(now=second.at).schedules[-1][1] in ("applied",)
        assert deck.schedules()[0].state == "active"


def test_unschedule_ends_it_and_nothing_more_changes(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox)
        req = scheduled(deck, f"schedule {dep_id} {OFFICE}")
        schedule_id = req.refs["schedule"]
        assert req.schedule is not None
        first = next_change(req.schedule, utcnow())
        assert first is not None
        viewer = deck.resolve_actor("slack", "U0VICTOR")
        with pytest.raises(PermissionDenied):
            deck.run(parse(f"unschedule {schedule_id}"), viewer)
        alice = deck.resolve_actor("jupyter", "alice")
        done = deck.run(parse(f'unschedule {schedule_id} reason="project paused"'), alice)
        assert isinstance(done, SchedulesResult)
        assert done.schedules[0].state == "cancelled" and done.schedules[0].next_change is None
        assert "cancelled by alice: project paused" in done.text
        assert Reconciler(deck).run_once(now=first.at).schedules == []
        assert capacity(deck, dep_id) == (10000, 1000)
        assert actions(deck, schedule_id)[-1] == "schedule_cancelled"
        with pytest.raises(ConflictError, match="only an active or paused schedule"):
            deck.run(parse(f"unschedule {schedule_id}"), alice)
        with pytest.raises(NotFound):
            deck.run(parse("unschedule sch_nope"), alice)
        # the deployment is free for a new schedule
        again = scheduled(deck, f"schedule {dep_id} {OFFICE}")
        assert again.refs["schedule"] != schedule_id


@pytest.mark.slow
def test_a_change_whose_operation_is_still_running_applies_once_it_succeeded(
    tmp_path: Path,
) -> None:
    slow = running_sandbox(deploy_delay_seconds=0.05, operation_delay_seconds=60)
    with (
        slow as sb,
        closing(deck_for(sb, tmp_path / "d", provider={"operation_timeout_seconds": 0.3})) as deck,
    ):
        dep_id = deployed(deck, sb)
        req = scheduled(deck, f"schedule {dep_id} {OFFICE}")
        schedule_id = req.refs["schedule"]
        assert req.schedule is not None
        first = next_change(req.schedule, utcnow())
        assert first is not None
        reconciler = Reconciler(deck)
        assert reconciler.run_once(now=first.at).schedules == [(schedule_id, "started")]
        assert capacity(deck, dep_id) == (10000, 1000)  # not billed before it SUCCEEDED
        # still running: neither applied, nor taken for a hand change, nor claimed again
        assert reconciler.run_once(now=first.at + timedelta(minutes=1)).schedules == []
        sb.advance(120)
        done = reconciler.run_once(now=first.at + timedelta(minutes=2))
        assert done.schedules == [(schedule_id, "applied")]
        assert capacity(deck, dep_id) == (first.level.input_tpm, first.level.output_tpm)
        assert actions(deck, schedule_id) == [
            "schedule_activated",
            "scheduled_change_started",
            "scheduled_change_applied",
        ]
        assert deck.schedules()[0].state == "active"


def test_missed_changes_are_superseded_by_the_latest_one_due(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox)
        req = scheduled(deck, f"schedule {dep_id} {OFFICE}")
        schedule_id = req.refs["schedule"]
        assert req.schedule is not None
        first = next_change(req.schedule, utcnow())
        assert first is not None
        second = next_change(req.schedule, first.at)
        assert second is not None
        if second.level.input_tpm != 40000:  # the latest change due must be a real change
            first, second = second, next_change(req.schedule, second.at)
            assert second is not None
        # no reconciler ran at the earlier change(s): the first pass after `second` runs only it
        late = second.at + timedelta(minutes=30)
        assert Reconciler(deck).run_once(now=late).schedules == [
            (schedule_id, "started"),
            (schedule_id, "applied"),
        ]
        assert capacity(deck, dep_id) == (second.level.input_tpm, second.level.output_tpm)
        runs = [
            a for a in deck.audit(subject=schedule_id) if a["action"] == "scheduled_change_applied"
        ]
        assert [datetime.fromisoformat(a["detail"]["change_at"]) for a in runs] == [second.at]


def test_a_window_first_seen_late_still_sets_its_level(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox, MU)
        start = (utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
        end = start + timedelta(hours=4)
        req = scheduled(
            deck, f"scale {dep_id} units=2 from={start.isoformat()} until={end.isoformat()}"
        )
        reconciler = Reconciler(deck)
        assert reconciler.run_once(now=start + timedelta(hours=2)).schedules[-1] == (
            req.refs["schedule"],
            "applied",
        )
        assert deck.get_deployment(dep_id).units == 2
