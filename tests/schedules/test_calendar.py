"""The Beijing calendar of a schedule: weekdays and wall-clock times are Asia/Shanghai's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from modeldeck.grammar import ScheduleCommand, parse
from modeldeck.schedules.calendar import changes_between, next_change
from modeldeck.schedules.spec import ScheduleSpec
from modeldeck.timeutil import BEIJING


def _spec(text: str) -> ScheduleSpec:
    command = parse(text)
    assert isinstance(command, ScheduleCommand)
    return command.spec


OFFICE = _spec(
    'schedule s in=40000 out=4000 at="mon-fri 09:00" in=10000 out=1000 at="mon-fri 19:00"'
)


def test_09_00_is_beijing_time_so_01_00_utc() -> None:
    # Monday 2026-12-07 00:30 UTC is Monday 08:30 in Beijing: the next change is 09:00 there
    found = next_change(OFFICE, datetime(2026, 12, 7, 0, 30, tzinfo=UTC))
    assert found is not None
    assert found.at == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert found.at.astimezone(BEIJING).strftime("%a %H:%M") == "Mon 09:00"
    assert found.level.input_tpm == 40000


def test_a_week_has_ten_changes_and_none_at_the_weekend() -> None:
    start = datetime(2026, 12, 5, tzinfo=BEIJING)  # a Saturday
    changes = changes_between(OFFICE, start, start + timedelta(days=7))
    assert len(changes) == 10
    assert {c.at.astimezone(BEIJING).weekday() for c in changes} == {0, 1, 2, 3, 4}
    assert [c.at.astimezone(BEIJING).strftime("%H:%M") for c in changes[:2]] == ["09:00", "19:00"]


def test_the_bounds_are_exclusive_then_inclusive() -> None:
    nine = datetime(2026, 12, 7, 9, 0, tzinfo=BEIJING)
    assert [c.at for c in changes_between(OFFICE, nine - timedelta(seconds=1), nine)] == [nine]
    assert changes_between(OFFICE, nine, nine + timedelta(hours=1)) == []


def test_friday_evening_skips_to_monday_morning() -> None:
    friday_night = datetime(2026, 12, 11, 19, 0, tzinfo=BEIJING)
    found = next_change(OFFICE, friday_night)
    assert found is not None and found.at == datetime(2026, 12, 14, 9, 0, tzinfo=BEIJING)


def test_a_window_has_its_two_changes() -> None:
    command = parse("scale s units=8 from=2027-11-11T00:00 until=2027-11-12T00:00")
    window = command.window()  # type: ignore[attr-defined]
    assert window is not None
    filled = window.model_copy(update={"restore": window.level.model_copy(update={"units": 1})})
    changes = changes_between(
        filled, datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    )
    assert [(c.label, c.level.units) for c in changes] == [("from", 8), ("until", 1)]
