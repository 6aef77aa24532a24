"""Schedules in team mode: the same requests, listings and errors over REST (`RemoteDeck`)."""

from __future__ import annotations

from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from modeldeck.api import DeckAPI
from modeldeck.domain import RequestStatus
from modeldeck.errors import ConflictError, ValidationFailed
from modeldeck.grammar import parse
from modeldeck.results import DeploymentsResult, RequestResult, SchedulesResult
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.schedules.spec import ScheduleLevel, ScheduleSpec
from modeldeck.server import create_app
from modeldeck.server.client import RemoteDeck
from modeldeck.serving import ServerThread
from modeldeck.timeutil import utcnow
from tests.schedules.helpers import MU, deck_for, deployed


def test_schedule_verbs_work_over_rest(sandbox: RunningSandbox, tmp_path: Path) -> None:
    policy = {"auto_approve_below_usd_per_day": 100_000}
    with closing(deck_for(sandbox, tmp_path / "d", principals=[], policy=policy)) as deck:
        dep_id = deployed(deck, sandbox, MU)
        with ServerThread(create_app(deck, deck.settings)) as server:
            remote = RemoteDeck(server.url)
            try:
                assert isinstance(remote, DeckAPI)
                alice = remote.resolve_actor("jupyter", "alice")
                text = f'schedule {dep_id} units=2 at="weekdays 09:00" units=1 at="weekdays 19:00"'
                result = remote.run(parse(text), alice)
                assert isinstance(result, RequestResult) and result.verb == "schedule"
                assert result.request.status == RequestStatus.EXECUTED  # auto-approved here
                listed = remote.run(parse("schedules"), alice)
                assert isinstance(listed, SchedulesResult)
                assert [s.deployment_id for s in listed.schedules] == [dep_id]
                assert remote.schedules() == deck.schedules()
                deployments = remote.run(parse("list"), alice)
                assert isinstance(deployments, DeploymentsResult)
                assert dep_id in deployments.next_changes
                with pytest.raises(ConflictError, match="already runs schedule"):
                    remote.run(parse(text), alice)
                start = utcnow() - timedelta(hours=1)
                past = ScheduleSpec(
                    deployment=dep_id,
                    kind="window",
                    level=ScheduleLevel(units=3),
                    window_from=start,
                    window_until=start + timedelta(hours=3),
                )
                with pytest.raises(ValidationFailed, match="is in the past"):
                    remote.request_schedule(past, alice)
                schedule_id = listed.schedules[0].id
                cancelled = remote.cancel_schedule(schedule_id, alice, "over")
                assert cancelled.state == "cancelled"
                assert deck.schedules()[0].state == "cancelled"
            finally:
                remote.close()
