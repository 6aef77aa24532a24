"""The schedule grammar: weekly entries, one-off windows, and a clear error for each bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modeldeck.errors import GrammarError
from modeldeck.grammar import ScaleCommand, ScheduleCommand, SchedulesCommand, parse
from modeldeck.schedules.spec import ScheduleLevel
from modeldeck.timeutil import BEIJING

TWO_LEVELS = (
    'schedule search in=40000 out=4000 at="mon-fri 09:00" in=10k out=1k at="mon-fri 19:00" '
    'reason="office hours"'
)


def test_each_at_closes_the_level_written_before_it() -> None:
    command = parse(TWO_LEVELS)
    assert isinstance(command, ScheduleCommand)
    spec = command.spec
    assert spec.deployment == "search" and spec.kind == "recurring"
    assert [(e.days, e.time) for e in spec.entries] == [
        ([0, 1, 2, 3, 4], "09:00"),
        ([0, 1, 2, 3, 4], "19:00"),
    ]
    assert spec.entries[0].level == ScheduleLevel(input_tpm=40000, output_tpm=4000)
    assert spec.entries[1].level == ScheduleLevel(input_tpm=10000, output_tpm=1000)
    assert command.reason == "office hours"
    assert spec.describe() == (
        "mon-fri 09:00 → 40,000 in / 4,000 out TPM; mon-fri 19:00 → 10,000 in / 1,000 out TPM"
    )


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon,wed,fri", [0, 2, 4]),
        ("Sat-Sun", [5, 6]),
        ("weekends", [5, 6]),
        ("weekdays", [0, 1, 2, 3, 4]),
        ("daily", [0, 1, 2, 3, 4, 5, 6]),
        ("mon-wed,fri", [0, 1, 2, 4]),
        ("thursday", [3]),
    ],
)
def test_days_are_written_as_people_write_them(days: str, expected: list[int]) -> None:
    command = parse(f'schedule s units=2 at="{days} 8:30"')
    assert isinstance(command, ScheduleCommand)
    assert command.spec.entries[0].days == expected
    assert command.spec.entries[0].time == "08:30"


def test_an_mu_level_and_a_single_entry() -> None:
    command = parse('schedule s units=4 at="daily 08:00"')
    assert isinstance(command, ScheduleCommand)
    assert command.spec.entries[0].level == ScheduleLevel(units=4)
    assert command.spec.entries[0].describe() == "daily 08:00 → 4 unit(s)"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('schedule s in=1 at="mun 09:00"', ["'mun' is not a day", "mon-fri"]),
        ('schedule s in=1 at="fri-mon 09:00"', ["'fri-mon' runs backwards"]),
        ('schedule s in=1 at="mon 25:00"', ["'25:00' is not a time", "HH:MM"]),
        ('schedule s in=1 at="mon 9am"', ["'9am' is not a time"]),
        ('schedule s in=1 at="09:00"', ["needs days and a time", 'at="mon-fri 09:00"']),
        ("schedule s in=1 at=mon", ["needs days and a time"]),
        ('schedule s at="mon 09:00"', ["has no capacity before it"]),
        ("schedule s in=40000 out=4000", ["in= out= has no at= after it"]),
        (
            'schedule s in=1 at="mon 09:00" in=2 at="mon-fri 09:00"',
            ["Two levels start at mon 09:00"],
        ),
        ('schedule s in=1 in=2 at="mon 09:00"', ["in= is given twice before one at="]),
        ('schedule s units=1 in=1 at="mon 09:00"', ["units= (mu) or in=/out= (ptu)"]),
        ('schedule s units=1 at="mon 09:00" every=2', ["Unknown key 'every'", "Allowed: units"]),
        (
            "schedule s units=1 from=2027-01-01T00:00",
            ["Unknown key 'from'", "scale <deployment> … from=… until=…"],
        ),
        ("schedule s", ["at least one capacity"]),
        ('schedule at="mon 09:00"', ["Expected a deployment"]),
        ("schedules now", ["Unexpected 'now'"]),
        ("scale s units=8 from=2027-11-11T00:00", ["needs both from= and until=", "until="]),
        ("scale s units=8 until=2027-11-11T00:00", ["from= is missing"]),
        (
            "scale s units=8 from=2027-11-11T00:00 until=2027-11-10T00:00",
            ["until= must be after from="],
        ),
        ("scale s units=8 from=tomorrow until=2027-11-10T00:00", ["is not an ISO time"]),
    ],
)
def test_bad_input_gets_one_clear_error(text: str, fragments: list[str]) -> None:
    with pytest.raises(GrammarError) as raised:
        parse(text)
    message = str(raised.value) + " " + (raised.value.hint or "")
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_a_window_is_a_scale_with_from_and_until_in_beijing_time() -> None:
    command = parse(
        'scale promo units=8 from=2027-11-11T00:00 until=2027-11-12T00:00Z reason="11.11"'
    )
    assert isinstance(command, ScaleCommand)
    window = command.window()
    assert window is not None and window.kind == "window"
    assert window.level == ScheduleLevel(units=8)
    assert window.window_from == datetime(2027, 11, 11, tzinfo=BEIJING)
    assert window.window_until == datetime(2027, 11, 12, tzinfo=UTC)
    assert command.reason == "11.11"
    plain = parse("scale promo units=8")
    assert isinstance(plain, ScaleCommand) and plain.window() is None


def test_schedules_lists() -> None:
    assert isinstance(parse("schedules"), SchedulesCommand)
