"""`plan … apply option=schedule` turns the planner's capacity per Beijing hour into a schedule
request of the deployment (one daily entry per change), approved for its maximum like any."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from modeldeck.domain import DeploySpec
from modeldeck.errors import UserError
from modeldeck.grammar import parse
from modeldeck.results import CapacityPlanResult
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.store.models import UsageMinuteRow
from tests.schedules.helpers import MU, PTU, deck_for, deployed

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 Beijing
PERIOD = "2026-03-01T10:00+08:00..2026-03-01T12:00+08:00"


def test_apply_option_schedule_requests_a_daily_schedule(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox)
        code = deck.get_deployment(dep_id).deployed_model or ""
        with deck.store.session() as session:
            for i in range(120):
                busy = i < 60  # 10:00-11:00 Beijing busy, 11:00-12:00 quiet
                session.add(
                    UsageMinuteRow(
                        deployed_model=code, minute=T0 + timedelta(minutes=i), calls=1,
                        input_tokens=45_000 if busy else 15_000,
                        output_tokens=1_500 if busy else 500,
                    )
                )  # fmt: skip
        alice = deck.resolve_actor("jupyter", "alice")
        text = (
            f"plan {PTU.model} deployment={dep_id} period={PERIOD} coverage=0.9 "
            "apply option=schedule"
        )
        result = deck.run(parse(text), alice)
        assert isinstance(result, CapacityPlanResult) and result.request is not None
        planned = result.plan.option("schedule").schedule or []
        by_hour = {h.hour: (h.input_tpm, h.output_tpm) for h in planned}
        assert by_hour[10] != by_hour[11]
        request = result.request
        assert request.kind == "schedule" and request.schedule is not None
        entries = request.schedule.entries
        # the busy hour, the quiet one, then the minimum unit for the hours without traffic
        assert [(e.days, e.time) for e in entries] == [
            (list(range(7)), "10:00"),
            (list(range(7)), "11:00"),
            (list(range(7)), "12:00"),
        ]
        assert [(e.level.input_tpm, e.level.output_tpm) for e in entries] == [
            by_hour[10],
            by_hour[11],
            by_hour[12],
        ]
        assert by_hour[12] == by_hour[9] == (10000, 1000)
        high = max(by_hour.values())
        week = deck.estimate(
            DeploySpec(
                model=PTU.model, plan="ptu", input_tpm=high[0], output_tpm=high[1],
                hours=Decimal(168),
            )
        )  # fmt: skip
        assert request.estimate is not None and request.estimate.total == week.total
        assert "schedule option" in (request.reason or "")


def test_apply_option_schedule_needs_a_ptu_deployment(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    trace = tmp_path / "t.csv"
    rows = ["minute,input_tokens,output_tokens"]
    rows += [f"{(T0 + timedelta(minutes=i)).isoformat()},20000,1000" for i in range(60)]
    trace.write_text("\n".join(rows) + "\n")
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        alice = deck.resolve_actor("jupyter", "alice")
        with pytest.raises(UserError, match="applied to a running deployment"):
            deck.run(parse(f"plan {PTU.model} trace={trace} apply option=schedule"), alice)
        mu = deployed(deck, sandbox, MU)
        with pytest.raises(UserError):
            deck.run(
                parse(f"plan {MU.model} deployment={mu} period=7d apply option=schedule"), alice
            )
