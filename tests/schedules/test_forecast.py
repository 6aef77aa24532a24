"""The reserved spend still to come this period includes the scheduled capacity changes (issue
12), to the cent: qwen3-max PTU lists 10,000 in / 1,000 out TPM at $1.56/h, 40,000/4,000 $6.24/h."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from modeldeck.billing.accrual import CapacityEvent, DeploymentHistory
from modeldeck.billing.forecast import forecast
from modeldeck.budgets.models import period_bounds
from modeldeck.catalog import load_catalog
from modeldeck.grammar import parse
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.settings import Settings
from modeldeck.timeutil import BEIJING, utcnow
from tests.schedules.helpers import PTU, deck_for, deployed, through

MODEL = PTU.model
LOW = {"input_tpm": 10000, "output_tpm": 1000}
HIGH = {"input_tpm": 40000, "output_tpm": 4000}
# The last two days of a month at 10k/1k with 09:00-19:00 at 40k/4k each day (Beijing time):
# 20 h at $6.24 + 28 h at $1.56 = $124.80 + $43.68
TWO_SCHEDULED_DAYS = Decimal("168.48")


def _daily(day: datetime) -> list[CapacityEvent]:
    return [
        CapacityEvent(at=day.replace(hour=9), kind="scaled", **HIGH),
        CapacityEvent(at=day.replace(hour=19), kind="scaled", **LOW),
    ]


def test_planned_changes_are_billed_from_their_instant_to_the_cent() -> None:
    catalog = load_catalog(Settings())
    history = DeploymentHistory(
        deployment_id="d1",
        model=MODEL,
        plan="ptu",
        events=[CapacityEvent(at=datetime(2026, 12, 1, tzinfo=BEIJING), kind="created", **LOW)],
    )
    period = (datetime(2026, 12, 1, tzinfo=BEIJING), datetime(2027, 1, 1, tzinfo=BEIJING))
    now = datetime(2026, 12, 30, tzinfo=BEIJING)
    unchanged = forecast(history, period, now, catalog)
    assert unchanged.reserved_to_come == Decimal("74.88")  # 48 h at $1.56
    planned = [*_daily(now), *_daily(now + timedelta(days=1))]
    scheduled = forecast(history, period, now, catalog, planned=planned)
    assert scheduled.reserved_to_come == TWO_SCHEDULED_DAYS
    assert "with the 4 scheduled change(s) still to come" in scheduled.assumptions[0]
    # changes before now or after the period are not billed again or at all
    outside = [
        CapacityEvent(at=now - timedelta(hours=1), kind="scaled", **HIGH),
        CapacityEvent(at=period[1] + timedelta(hours=1), kind="scaled", **HIGH),
    ]
    assert forecast(history, period, now, catalog, planned=outside).reserved_to_come == Decimal(
        "74.88"
    )


def test_the_forecast_of_a_scheduled_deployment_includes_its_schedule(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with closing(deck_for(sandbox, tmp_path / "d")) as deck:
        dep_id = deployed(deck, sandbox)
        # 48 h before the end of a Beijing month that is still ahead
        end = period_bounds("month", utcnow() + timedelta(days=3))[1]
        now = end - timedelta(hours=48)
        before = deck.forecast(dep_id, "month", now=now).forecasts[0]
        assert before.reserved_to_come == Decimal("74.88")
        alice = deck.resolve_actor("jupyter", "alice")
        text = (
            f'schedule {dep_id} in=40000 out=4000 at="daily 09:00" in=10000 out=1000 '
            'at="daily 19:00"'
        )
        done = through(deck, deck.run(parse(text), alice).request)  # type: ignore[attr-defined]
        assert done.status.value == "executed", done.error
        after = deck.forecast(dep_id, "month", now=now).forecasts[0]
        assert after.reserved_to_come == TWO_SCHEDULED_DAYS
        assert after.to_date == before.to_date
        shown = deck.run(parse(f"cost {dep_id} forecast"), alice).text
        assert "scheduled change(s) still to come" in shown
