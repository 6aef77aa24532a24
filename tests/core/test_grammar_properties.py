"""Property-based tests of the grammar: no input crashes it, and generated commands round-trip."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeldeck.errors import GrammarError
from modeldeck.grammar import (
    KEYS,
    VERBS,
    DeployCommand,
    EstimateCommand,
    ScaleCommand,
    join_argv,
    parse,
    parse_argv,
    parse_number,
    tokenize,
)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Words the grammar knows, so random text reaches past the verb into key and value parsing.
_VOCAB = [
    *VERBS, *KEYS, "ptu", "mu", "all", "compare", "confirm", "deck", "/deck", "=", "k", ",", "_",
    ".", "-", "'", '"', "“", "”", "‘", "’", "\\", " ", "  ", "\t", "\u00a0", "20", "0", "1", "7d",
    "90m30s", "1h", "yes", "no", "hourly", "upfront", "monthly", "thinking", "2026-03-01T10:00",
]  # fmt: skip
grammar_soup = st.lists(st.sampled_from(_VOCAB) | st.text(max_size=4), max_size=25).map("".join)


def _parses_or_grammar_error(text: str) -> None:
    try:
        command = parse(text)
    except GrammarError as exc:
        message = str(exc)
        assert message and "\n" not in message
        return
    assert command.raw == text


@FAST
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_anything_but_grammar_error(text: str) -> None:
    _parses_or_grammar_error(text)


@pytest.mark.slow
@FAST
@given(grammar_soup)
def test_grammar_like_text_never_raises_anything_but_grammar_error(text: str) -> None:
    _parses_or_grammar_error(text)


@FAST
@given(
    st.sampled_from(["estimate", "deploy", "compare", "scale", "limits", "cost", "reject"]),
    st.lists(
        st.tuples(st.sampled_from(sorted(KEYS)), st.text(max_size=12) | st.sampled_from(_VOCAB)),
        max_size=6,
    ),
)
def test_random_options_never_raise_anything_but_grammar_error(
    verb: str, options: list[tuple[str, str]]
) -> None:
    head = {"estimate": ["x", "ptu"], "deploy": ["x", "mu"], "compare": ["x", "ptu"]}
    argv = [verb, *head.get(verb, ["d1"]), *(f"{k}={v}" for k, v in options)]
    with contextlib.suppress(GrammarError):
        parse_argv(argv)


@FAST
@given(st.lists(st.text(max_size=15), max_size=8))
def test_join_argv_tokenizes_back_to_the_same_words(argv: list[str]) -> None:
    assert [token.text for token in tokenize(join_argv(argv))] == argv


def _styles(n: int) -> list[str]:
    styles = [str(n), f"{n:,}", f"{n:_}"]
    if n % 1000 == 0:
        styles += [f"{n // 1000}k", f"{n // 1000}K"]
    if n % 100 == 0 and n >= 1000:
        styles.append(f"{Decimal(n) / 1000}k")
    return styles


@FAST
@given(st.integers(min_value=0, max_value=10**12))
def test_numbers_in_every_allowed_style_parse_to_the_same_int(n: int) -> None:
    for text in _styles(n):
        assert parse_number(text, "in") == n, text
        command = parse(f"estimate m ptu in={text}")
        assert isinstance(command, EstimateCommand)
        assert command.spec.input_tpm == n


@FAST
@given(st.integers(min_value=1, max_value=999).map(lambda k: k * 1000))
def test_thousands_with_k_equal_the_written_out_number(n: int) -> None:
    a = parse(f"scale d out={n // 1000}k")
    b = parse(f"scale d out={n:,}")
    assert isinstance(a, ScaleCommand) and isinstance(b, ScaleCommand)
    assert a.spec == b.spec


def _random_case(draw: st.DrawFn, word: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if flip else c for c, flip in zip(word, flips, strict=True))


@st.composite
def ptu_commands(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A valid estimate/deploy text for ptu, with the fields it must produce."""
    verb = draw(st.sampled_from(["estimate", "deploy"]))
    model = draw(st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True))
    input_tpm = draw(st.integers(0, 10**7))
    output_tpm = draw(st.integers(0, 10**6))
    billing = draw(st.sampled_from(["hourly", "upfront"]))
    mode = draw(st.sampled_from(["instruct", "thinking"]))
    days = draw(st.integers(1, 400))
    options = [
        f"{_random_case(draw, 'in')}={draw(st.sampled_from(_styles(input_tpm)))}",
        f"out={draw(st.sampled_from(_styles(output_tpm)))}",
        f"billing={_random_case(draw, billing)}",
        f"{_random_case(draw, 'mode')}={_random_case(draw, mode)}",
        f"days={days}",
    ]
    expected: dict[str, object] = {
        "model": model, "plan": "ptu", "input_tpm": input_tpm, "output_tpm": output_tpm,
        "billing": billing, "mode": mode, "days": days,
    }  # fmt: skip
    reason = None
    if verb == "deploy" and draw(st.booleans()):
        reason = draw(st.text(min_size=1, max_size=30).filter(lambda t: " ".join(t.split())))
        options.append(join_argv([f"reason={reason}"]))
        expected["reason"] = " ".join(reason.split())
    options = draw(st.permutations(options))
    prefix = draw(st.sampled_from(["", "/deck ", "deck "]))
    words = [_random_case(draw, verb), _random_case(draw, model), _random_case(draw, "ptu")]
    return prefix + " ".join([*words, *options]), expected


@pytest.mark.slow
@FAST
@given(ptu_commands())
def test_generated_ptu_commands_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    command = parse(text)
    assert isinstance(command, EstimateCommand | DeployCommand)
    assert command.raw == text
    reason = expected.pop("reason", None)
    for name, value in expected.items():
        assert getattr(command.spec, name) == value, name
    if isinstance(command, DeployCommand):
        assert command.reason == reason


@FAST
@given(st.sampled_from(sorted(VERBS)), st.data())
def test_verbs_are_case_insensitive(verb: str, data: st.DataObject) -> None:
    for example in VERBS[verb].examples:
        first, _, rest = example.partition(" ")
        shouted = data.draw(st.sampled_from([first.upper(), first.title(), first]))
        original = parse(example)
        again = parse(f"{shouted} {rest}".strip())
        assert again.model_dump(exclude={"raw"}) == original.model_dump(exclude={"raw"})


@FAST
@given(st.text(alphabet=st.characters(blacklist_characters='"“”\\'), min_size=1, max_size=40))
def test_smart_and_straight_double_quotes_mean_the_same(reason: str) -> None:
    if not reason.split():
        return
    straight = parse(f'reject r1 reason="{reason}"')
    smart = parse(f"reject r1 reason=“{reason}”")
    assert straight.model_dump(exclude={"raw"}) == smart.model_dump(exclude={"raw"})


@st.composite
def mu_commands(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A valid mu estimate with units, limits and one duration key, options in any order."""
    units = draw(st.integers(1, 999))
    rpm = draw(st.integers(1, 10**6))
    tpm = draw(st.integers(1, 10**8))
    seconds = draw(st.integers(1, 10**7))
    duration = "".join(
        f"{n}{u}"
        for n, u in zip(
            (seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60, seconds % 60),
            "dhms",
            strict=True,
        )
        if n
    )
    options = [
        f"units={draw(st.sampled_from(_styles(units)))}",
        f"{draw(st.sampled_from(['rpm', 'rpm_limit', 'RPM']))}="
        f"{draw(st.sampled_from(_styles(rpm)))}",
        f"{draw(st.sampled_from(['tpm', 'tpm_limit']))}={draw(st.sampled_from(_styles(tpm)))}",
        f"duration={duration}",
        f"billing={draw(st.sampled_from(['hourly', 'HOURLY', 'Hourly']))}",
    ]
    text = " ".join(["estimate", "qwen3-32b", "mu", *draw(st.permutations(options))])
    expected: dict[str, object] = {
        "plan": "mu", "units": units, "rpm_limit": rpm, "tpm_limit": tpm,
        "duration_seconds": seconds, "billing": "hourly", "input_tpm": None,
    }  # fmt: skip
    return text, expected


@FAST
@given(mu_commands())
def test_generated_mu_commands_round_trip(case: tuple[str, dict[str, object]]) -> None:
    text, expected = case
    command = parse(text)
    assert isinstance(command, EstimateCommand)
    for name, value in expected.items():
        assert getattr(command.spec, name) == value, name
