"""Durations: the spellings people use, the mistakes they make, and format/parse round trips."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modeldeck.durations import format_duration
from modeldeck.errors import GrammarError
from modeldeck.grammar import parse_duration

GOOD = [
    ("90m30s", 5430),
    ("1h30m", 5400),
    ("7d", 7 * 86400),
    ("2h", 7200),
    ("45s", 45),
    ("1d2h", 93600),
    ("30s90m", 5430),  # any order
    ("1H30M", 5400),  # any case
    ("1.5h", 5400),
    ("0.5m", 30),
    ("2w", 14 * 86400),
    ("1 h 30 min", 5400),
    ("3 hours", 10800),
    ("10 days 7 hours", 10 * 86400 + 7 * 3600),
    ("0s", 0),
]


@pytest.mark.parametrize(("text", "seconds"), GOOD)
def test_good_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


BAD = [
    ("abc", "'abc' is not a valid duration: use e.g. 90m30s, 1h30m, 7d"),
    ("", "The duration is empty"),
    ("90", "'90' has no unit"),
    ("1h1h", "gives the unit 'h' twice"),
    ("1h30", "'1h30' is not a valid duration"),
    ("1y", "'y' in '1y' is not a duration unit"),
    ("-1h", "is not a valid duration"),
    ("0.1s", "is not a whole number of seconds"),
    ("1e3s", "'e' in '1e3s' is not a duration unit"),
    ("9999999999h", "is not a valid duration"),
    ("h", "is not a valid duration"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_bad_durations(text: str, fragment: str) -> None:
    with pytest.raises(GrammarError) as info:
        parse_duration(text)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_format_duration() -> None:
    assert format_duration(5430) == "1h30m30s"
    assert format_duration(7 * 86400) == "7d"
    assert format_duration(0) == "0s"
    with pytest.raises(ValueError):
        format_duration(-1)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**9))
def test_format_then_parse_is_identity(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["w", "d", "h", "m", "s"]), st.integers(0, 10**6), min_size=1),
    st.randoms(use_true_random=False),
    st.sampled_from(["", " "]),
)
def test_components_in_any_order_add_up(
    parts: dict[str, int], rnd: random.Random, sep: str
) -> None:
    sizes = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    items = list(parts.items())
    rnd.shuffle(items)
    text = sep.join(f"{n}{unit}" for unit, n in items)
    assert parse_duration(text) == sum(n * sizes[unit] for unit, n in parts.items())


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_text_is_seconds_or_grammar_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except GrammarError:
        return
    assert isinstance(seconds, int) and seconds >= 0
