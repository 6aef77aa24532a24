"""Table-driven tests of the command grammar: what valid text parses to, what bad text says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from modeldeck.errors import GrammarError, UserError
from modeldeck.grammar import (
    KEYS,
    VERBS,
    ApprovalsCommand,
    ApproveCommand,
    CostCommand,
    DeployCommand,
    EstimateCommand,
    HelpCommand,
    LimitsCommand,
    ListCommand,
    ModelsCommand,
    RejectCommand,
    ScaleCommand,
    StatusCommand,
    UnpublishCommand,
    command_adapter,
    help_text,
    join_argv,
    parse,
    parse_argv,
    tokenize,
)
from modeldeck.timeutil import BEIJING

MAX = "qwen3-max-2025-09-23"

# --- valid commands ------------------------------------------------------------------------------

SPEC_CASES: list[tuple[str, dict[str, Any]]] = [
    (
        f"estimate {MAX} ptu in=20k out=2k hours=10",
        {
            "model": MAX,
            "plan": "ptu",
            "input_tpm": 20000,
            "output_tpm": 2000,
            "hours": Decimal("10"),
            "billing": "hourly",
            "mode": "instruct",
            "compare": False,
        },
    ),
    (
        f"estimate {MAX} ptu in=20,000 out=2_000 billing=upfront days=7",
        {"input_tpm": 20000, "output_tpm": 2000, "billing": "upfront", "days": 7},
    ),
    (
        "estimate qwen3-32b mu units=2 duration=90m30s",
        {"plan": "mu", "units": 2, "duration_seconds": 5430, "input_tpm": None},
    ),
    (
        "estimate qwen3-vl-8b-instruct mu units=1 billing=monthly months=1",
        {"billing": "monthly", "months": 1, "units": 1},
    ),
    ("estimate qwen3-32b mu", {"units": 1}),  # decision: one unit when units= is left out
    (
        "estimate qwen3-vl-8b-instruct mu billing=monthly cancel_after=10d7h",
        {"cancel_after_seconds": 10 * 86400 + 7 * 3600},
    ),
    (
        f"estimate {MAX} ptu in=20k out=2k hours=1.5",
        {"hours": Decimal("1.5")},
    ),
    (
        f"estimate {MAX} ptu in=20k hours_per_day=14 days=30 compare",
        {"hours_per_day": Decimal("14"), "days": 30, "compare": True, "output_tpm": None},
    ),
    (
        f"estimate {MAX} ptu compare in=20k",
        {"compare": True, "input_tpm": 20000},
    ),
    (
        f"compare {MAX} ptu in=20k out=2k days=30",
        {"compare": True, "days": 30},
    ),
    (
        "estimate qwen-plus-2025-12-01 ptu mode=thinking in=10k thinking_out=1k",
        {"mode": "thinking", "thinking_output_tpm": 1000, "input_tpm": 10000},
    ),
    (
        "estimate qwen3-32b mu units=2 rpm_limit=600 tpm_limit=100k",
        {"rpm_limit": 600, "tpm_limit": 100000},
    ),
    (
        "estimate qwen3-32b mu rpm=60 tpm=1k",  # rpm/tpm are aliases of rpm_limit/tpm_limit
        {"rpm_limit": 60, "tpm_limit": 1000},
    ),
    (
        f"estimate {MAX} ptu in=20k billing=upfront days=1 auto_renew=yes",
        {"auto_renewal": True},
    ),
    (
        f"estimate {MAX} ptu in=20k billing=upfront days=1 auto_renew=no",
        {"auto_renewal": False},
    ),
    (
        f"estimate {MAX} ptu in=20k suffix=team-1 name='Max for search'",
        {"suffix": "team-1", "name": "Max for search"},
    ),
    (
        f"estimate {MAX} ptu input_tpm=30k output_tpm=3k",
        {"input_tpm": 30000, "output_tpm": 3000},
    ),
    (
        f"estimate {MAX} ptu in=10k Thinking-Out=1k",  # keys: case and '-' are forgiven
        {"thinking_output_tpm": 1000},
    ),
]


@pytest.mark.parametrize(("text", "fields"), SPEC_CASES, ids=[c[0] for c in SPEC_CASES])
def test_estimate_specs(text: str, fields: dict[str, Any]) -> None:
    command = parse(text)
    assert isinstance(command, EstimateCommand)
    assert command.raw == text
    for name, expected in fields.items():
        assert getattr(command.spec, name) == expected, name


def test_worked_examples_parse_to_the_billing_inputs() -> None:
    """The billing rules' worked examples, as people would type them."""
    one = parse(f"estimate {MAX} ptu in=20,000 out=2,000 hours=10")
    two = parse(f"estimate {MAX} ptu in=20,000 out=2,000 billing=upfront days=7")
    three = parse("estimate qwen3-32b mu units=2 duration=90m30s")
    assert isinstance(one, EstimateCommand) and isinstance(two, EstimateCommand)
    assert isinstance(three, EstimateCommand)
    assert (one.spec.input_tpm, one.spec.output_tpm, one.spec.hours) == (20000, 2000, 10)
    assert (two.spec.billing, two.spec.days) == ("upfront", 7)
    assert (three.spec.units, three.spec.duration_seconds) == (2, 90 * 60 + 30)


def test_start_naive_is_beijing_and_aware_is_kept() -> None:
    naive = parse(f"estimate {MAX} ptu in=20k start=2026-03-01T22:30")
    zulu = parse(f"estimate {MAX} ptu in=20k start=2026-03-01T14:30Z")
    offset = parse(f'estimate {MAX} ptu in=20k start="2026-03-01 10:00+02:00"')
    assert isinstance(naive, EstimateCommand) and naive.spec.start is not None
    assert isinstance(zulu, EstimateCommand) and zulu.spec.start is not None
    assert isinstance(offset, EstimateCommand) and offset.spec.start is not None
    assert naive.spec.start.tzinfo is BEIJING
    assert naive.spec.start == datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
    assert zulu.spec.start.utcoffset() == timedelta(0)
    assert naive.spec.start == zulu.spec.start
    assert offset.spec.start.utcoffset() == timedelta(hours=2)
    assert offset.spec.start == datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=2)))


def test_deploy_with_reason_in_smart_quotes() -> None:
    command = parse("deploy Qwen3-32B MU units=2 billing=monthly months=1 reason=“we don’t wait”")
    assert isinstance(command, DeployCommand)
    assert command.spec.model == "qwen3-32b"
    assert command.spec.plan == "mu"
    assert command.reason == "we don’t wait"
    assert command.spec.compare is False


OTHER_CASES: list[tuple[str, Any]] = [
    ("help", HelpCommand(raw="help", topic=None)),
    ("HELP Estimate", HelpCommand(raw="HELP Estimate", topic="estimate")),
    ("help syntax", HelpCommand(raw="help syntax", topic="syntax")),
    ("", HelpCommand(raw="", topic=None)),  # decision: empty text (e.g. bare /deck) is help
    ("/deck", HelpCommand(raw="/deck", topic=None)),
    ("models", ModelsCommand(raw="models")),
    ("list", ListCommand(raw="list", include_deleted=False)),
    ("List ALL", ListCommand(raw="List ALL", include_deleted=True)),
    ("status my-dep", StatusCommand(raw="status my-dep", deployment="my-dep")),
    ("status My-Dep", StatusCommand(raw="status My-Dep", deployment="My-Dep")),
    ("approvals", ApprovalsCommand(raw="approvals")),
    ("approve r-12", ApproveCommand(raw="approve r-12", request_id="r-12")),
    ("reject r-12", RejectCommand(raw="reject r-12", request_id="r-12", reason=None)),
    (
        "reject r-12 reason='too   expensive'",
        RejectCommand(
            raw="reject r-12 reason='too   expensive'", request_id="r-12", reason="too expensive"
        ),
    ),
    ("cost", CostCommand(raw="cost", target=None, period="month")),
    ("cost all", CostCommand(raw="cost all", target=None, period="month")),
    ("cost d1 period=7d", CostCommand(raw="cost d1 period=7d", target="d1", period="7d")),
    ("cost period=168h", CostCommand(raw="cost period=168h", target=None, period="7d")),
    ("cost period=Last_Month", CostCommand(raw="cost period=Last_Month", period="last-month")),
    ("cost period=2026-03", CostCommand(raw="cost period=2026-03", period="2026-03")),
    ("cost period=2026-03-01", CostCommand(raw="cost period=2026-03-01", period="2026-03-01")),
    ("cost period=today", CostCommand(raw="cost period=today", period="today")),
    ("unpublish d1", UnpublishCommand(raw="unpublish d1", deployment="d1", confirm=False)),
    (
        'unpublish d1 confirm reason="project over"',
        UnpublishCommand(
            raw='unpublish d1 confirm reason="project over"',
            deployment="d1",
            confirm=True,
            reason="project over",
        ),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), OTHER_CASES, ids=[c[0] or "<empty>" for c in OTHER_CASES]
)
def test_other_verbs(text: str, expected: Any) -> None:
    assert parse(text) == expected


def test_scale_and_limits() -> None:
    mu = parse("scale d1 units=3")
    ptu = parse('scale d2 in=40k out=4k reason="peak week"')
    limits = parse("limits d3 rpm=600 tpm=100k")
    long_limits = parse("limits d3 rpm_limit=5")
    assert isinstance(mu, ScaleCommand) and isinstance(ptu, ScaleCommand)
    assert isinstance(limits, LimitsCommand) and isinstance(long_limits, LimitsCommand)
    assert (mu.spec.deployment, mu.spec.units, mu.spec.input_tpm) == ("d1", 3, None)
    assert (ptu.spec.input_tpm, ptu.spec.output_tpm, ptu.spec.units) == (40000, 4000, None)
    assert ptu.reason == "peak week"
    assert (limits.spec.rpm_limit, limits.spec.tpm_limit) == (600, 100000)
    assert (long_limits.spec.rpm_limit, long_limits.spec.tpm_limit) == (5, None)


@pytest.mark.parametrize("prefix", ["", "deck ", "/deck ", "/DECK  ", "  Deck\t"])
def test_leading_deck_is_ignored(prefix: str) -> None:
    command = parse(prefix + "approve R1")
    assert isinstance(command, ApproveCommand)
    assert command.request_id == "R1"


def test_commands_round_trip_through_json() -> None:
    for text, _ in SPEC_CASES:
        command = parse(text)
        assert command_adapter.validate_json(command.model_dump_json()) == command


# --- errors ------------------------------------------------------------------------------------

ERROR_CASES: list[tuple[str, list[str]]] = [
    ("estmate x ptu in=1", ["Unknown command 'estmate'", "Did you mean 'estimate'"]),
    ("estimate", ["Expected a model after 'estimate'", "Usage: estimate"]),
    ("estimate x", ["Expected a plan after the model: ptu or mu."]),
    ("estimate x pt in=1", ["'pt' is not a plan", "Did you mean 'ptu'"]),
    ("estimate ptu in=2", ["Expected a model before the plan 'ptu'"]),
    (f"estimate {MAX} ptu", ["needs a capacity", "in=<input TPM>"]),
    (
        "estimate x mu unit=2",
        ["Unknown key 'unit' for a mu estimate", "Allowed: units", "Did you mean 'units'?"],
    ),
    ("estimate x ptu units=2 in=1", ["Key 'units' does not apply to a ptu estimate", "mu"]),
    ("estimate x mu in=2", ["Key 'in' does not apply to a mu estimate", "ptu"]),
    ("estimate x mu mode=thinking", ["Key 'mode' does not apply to a mu estimate"]),
    ("estimate x ptu in=2 in=3", ["Key 'in' is given twice"]),
    ("estimate x ptu in=2 input_tpm=3", ["Key 'in' is given twice", "'in' and 'input_tpm'"]),
    ("estimate x ptu in=2 hours=1 days=2", ["Give only one duration", "hours= and days="]),
    ("estimate x ptu in=2 months=1 duration=1h", ["Give only one duration"]),
    ("estimate x ptu in=2 duration=abc", ["'abc' is not a valid duration: use e.g. 90m30s"]),
    ("estimate x ptu in=2 duration=90", ["'90' has no unit"]),
    ("estimate x ptu in=2 duration=0s", ["must be longer than zero"]),
    (
        "estimate x ptu in=2 billing=monthly",
        ["billing=monthly is not available for ptu", "hourly or upfront"],
    ),
    (
        "estimate x mu billing=upfront",
        ["billing=upfront is not available for mu", "hourly or monthly"],
    ),
    ("estimate x ptu in=1 mode=thinkin", ["mode=thinkin is not allowed", "Did you mean"]),
    ("estimate x ptu in=-5", ["in=-5 is negative"]),
    ("estimate x ptu in=1,00", ["misplaced commas"]),
    ("estimate x ptu in=1,000_000", ["mixes ',' and '_'"]),
    ("estimate x ptu in=1__0", ["misplaced underscores"]),
    ("estimate x ptu in=1.5", ["in=1.5 is not a whole number", "20k"]),
    ("estimate x ptu in=twenty", ["in=twenty is not a whole number"]),
    ("estimate x ptu in=9999999999999999999", ["is too large"]),
    ("estimate x mu units=0", ["units=0 is too small", "at least 1"]),
    ("estimate x ptu in=2 hours=0", ["hours=0 must be more than zero"]),
    ("estimate x ptu in=2 hours=1h", ["hours=1h is not a number"]),
    ("estimate x ptu in=2 hours_per_day=25", ["is too large: at most 24"]),
    ("estimate x ptu in=2 start=yesterday", ["start=yesterday is not an ISO time"]),
    ("estimate x ptu in=2 start=2026-13-01", ["is not an ISO time"]),
    ("estimate x ptu in=2 auto_renew=maybe", ["auto_renew=maybe is not yes or no"]),
    ("estimate x mu auto_renew=yes", ["only applies to prepaid orders", "billing=monthly"]),
    ("estimate x ptu in=2 suffix=muchtoolong", ["not a valid suffix", "1 to 8"]),
    ("estimate x ptu in=2 reason=why", ["Key 'reason' does not apply to a ptu estimate"]),
    ("estimate x ptu in=2 name=", ["name= has no value"]),
    ("estimate x ptu in= 20k", ["in= has no value: write it without spaces", "in=20k"]),
    ("estimate x ptu in=2 =5", ["has no key before '='"]),
    ("estimate x ptu in=2 --yes", ["'--yes' is not understood", "key=value"]),
    ("estimate x ptu in=2 extra", ["Unexpected 'extra' after the plan 'ptu'"]),
    ("estimate x ptu in=2 compare compare", ["'compare' is given twice"]),
    ("compare x ptu in=2 compare", ["'compare' is given twice"]),
    ("deploy x ptu in=2 compare", ["'compare' belongs to estimate"]),
    ("deploy x ptu in=2 start=2026-01-01", ["Key 'start' does not apply to a ptu deploy"]),
    ('deploy x ptu in=2 reason="unclosed', ["is never closed"]),
    ("deploy x ptu in=2 reason='unclosed", ["is never closed"]),
    ("reject r1 too expensive", ["Unexpected 'too' after the request id", 'reason="…"']),
    ("reject", ["Expected a request id after 'reject'"]),
    ("approve", ["Expected a request id after 'approve'"]),
    ("approve r1 r2", ["Unexpected 'r2'"]),
    ("approve r1 reason=x", ["Key 'reason' does not apply to 'approve'", "takes no key=value"]),
    ("status", ["Expected a deployment after 'status'"]),
    ("status a b", ["Unexpected 'b' after the deployment"]),
    ("scale d1", ["'scale' needs the new capacity"]),
    ("scale d1 units=1 in=2", ["units= (mu) or with in=/out= (ptu), not both"]),
    ("scale d1 unit=2", ["Unknown key 'unit' for 'scale'", "Did you mean 'units'"]),
    ("limits d1", ["'limits' needs rpm="]),
    ("limits d1 units=2", ["Key 'units' does not apply to 'limits'"]),
    ("unpublish", ["Expected a deployment after 'unpublish'"]),
    ("unpublish confirm", ["Expected a deployment before 'confirm'"]),
    ("unpublish d1 now", ["Unexpected 'now'"]),
    ("list deleted", ["'list' takes only the word 'all'"]),
    ("list all extra", ["Unexpected 'extra'"]),
    ("models qwen", ["Unexpected 'qwen' after 'models'"]),
    ("approvals x=1", ["Unknown key 'x' for 'approvals'", "'approvals' takes no key=value"]),
    ("cost period=fortnight", ["period=fortnight is not a period", "last-month"]),
    ("cost period=2026-02-30", ["is not a real date"]),
    ("cost d1 d2", ["Unexpected 'd2'"]),
    ("help foo", ["There is no help on 'foo'", "Topics:"]),
    ("help estimat", ["Did you mean 'estimate'"]),
    ("in=2", ["Expected a command first"]),
    ("deck deck", ["Unknown command 'deck'"]),
]


@pytest.mark.parametrize(("text", "fragments"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_say_what_was_wrong(text: str, fragments: list[str]) -> None:
    with pytest.raises(GrammarError) as info:
        parse(text)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "\n" not in message  # one paragraph
    assert "Traceback" not in message
    assert isinstance(info.value, UserError)


def test_error_messages_shorten_huge_input() -> None:
    with pytest.raises(GrammarError) as info:
        parse("x" * 5000)
    assert len(str(info.value)) < 400


def test_non_text_is_a_grammar_error() -> None:
    with pytest.raises(GrammarError, match="must be text"):
        parse(None)  # type: ignore[arg-type]


# --- tokens and argv -----------------------------------------------------------------------------

TOKEN_CASES: list[tuple[str, list[str]]] = [
    ("a b  c", ["a", "b", "c"]),
    ('reason="a b"', ["reason=a b"]),
    ("reason='a b'", ["reason=a b"]),
    ("reason=“a b”", ["reason=a b"]),
    ("reason=‘a b’", ["reason=a b"]),
    ("reason='don't stop' x", ["reason=don't stop", "x"]),
    ("reason=don't", ["reason=don't"]),
    ("reason=don’t", ["reason=don’t"]),
    ('"a b"c', ["a bc"]),
    ('"a \\" b"', ['a " b']),
    ("a\\ b", ["a b"]),
    ('x="a""b"', ["x=ab"]),
    ("a\u00a0b", ["a", "b"]),  # Slack sometimes sends non-breaking spaces
    ("", []),
]


@pytest.mark.parametrize(
    ("text", "words"), TOKEN_CASES, ids=[c[0] or "<empty>" for c in TOKEN_CASES]
)
def test_tokenize(text: str, words: list[str]) -> None:
    assert [t.text for t in tokenize(text)] == words


def test_key_split_only_before_quotes() -> None:
    plain, quoted, value_eq = tokenize('a=b "c=d" e=f=g')
    assert (plain.key, plain.value) == ("a", "b")
    assert quoted.key is None and quoted.text == "c=d"
    assert (value_eq.key, value_eq.value) == ("e", "f=g")


def test_parse_argv_matches_parse() -> None:
    argv = ["deploy", MAX, "ptu", "in=20k", "out=2k", 'reason=the "big" launch, don\'t wait']
    command = parse_argv(argv)
    assert isinstance(command, DeployCommand)
    assert command.reason == 'the "big" launch, don\'t wait'
    assert command == parse(join_argv(argv))
    assert [t.text for t in tokenize(command.raw)] == argv


def test_parse_argv_keeps_a_quoted_word_whole() -> None:
    command = parse_argv(["status", "my deployment"])
    assert isinstance(command, StatusCommand)
    assert command.deployment == "my deployment"


# --- the verb table and help ---------------------------------------------------------------------


def test_every_verb_has_usage_description_and_parsing_examples() -> None:
    assert set(VERBS) == {
        "help",
        "models",
        "estimate",
        "compare",
        "deploy",
        "list",
        "status",
        "scale",
        "renew",
        "limits",
        "unpublish",
        "cost",
        "budget",
        "alerts",
        "approvals",
        "approve",
        "reject",
        "plan",
        "schedule",
        "schedules",
        "unschedule",
        "withdraw",
    }
    for name, info in VERBS.items():
        assert info.name == name
        assert info.usage.split()[0] == name
        assert info.description.endswith(".")
        assert info.examples
        for example in info.examples:
            command = parse(example)
            assert command.verb == ("estimate" if name == "compare" else name), example


def test_help_text_lists_every_verb() -> None:
    text = help_text()
    for info in VERBS.values():
        assert info.usage in text


@pytest.mark.parametrize("topic", [*VERBS, "syntax", "Durations"])
def test_help_text_for_each_topic(topic: str) -> None:
    text = help_text(topic)
    if topic.lower() in VERBS:
        assert text.startswith(f"Usage: {VERBS[topic.lower()].usage}")
        for example in VERBS[topic.lower()].examples:
            assert example in text
    else:
        assert "90m30s" in text and "20k" in text


def test_help_text_for_estimate_lists_its_keys() -> None:
    text = help_text("estimate")
    for key in ("in", "out", "units", "billing", "duration", "cancel_after", "start"):
        assert f"  {key}=" in text
    assert "reason=" not in text


def test_help_text_unknown_topic_is_a_grammar_error() -> None:
    with pytest.raises(GrammarError, match="Did you mean 'deploy'"):
        help_text("deplyo")


def test_keys_table_is_consistent() -> None:
    for name, info in KEYS.items():
        assert info.name == name
        assert name not in info.aliases


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("cost period=2026-03-01..2026-03-08", "2026-03-01..2026-03-08"),
        (
            "cost all period=2026-03-01t10:00..2026-03-01T18:00",
            "2026-03-01T10:00..2026-03-01T18:00",
        ),
    ],
)
def test_cost_period_ranges(text: str, period: str) -> None:
    cmd = parse(text)
    assert isinstance(cmd, CostCommand) and cmd.period == period


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("cost period=2026-03-08..2026-03-01", "start must be before the end"),
        ("cost period=march..april", "write <from>..<to>"),
        ("cost period=2026-03-01..2026-03-02T00:00+08:00", "with an offset, or neither"),
    ],
)
def test_cost_period_range_errors(text: str, needle: str) -> None:
    with pytest.raises(GrammarError, match=needle):
        parse(text)


def test_context_and_max_input_keys() -> None:
    deploy = parse("deploy qwen3-32b mu units=1 context=131072")
    assert isinstance(deploy, DeployCommand) and deploy.spec.max_context_length == 131072
    est = parse("estimate qwen3-max-2025-09-23 ptu in=10k max_input=100k")
    assert isinstance(est, EstimateCommand) and est.spec.max_input_tokens == 100_000


def _estimate(text: str) -> EstimateCommand:
    command = parse(text)
    assert isinstance(command, EstimateCommand)
    return command


def test_context_beyond_the_model_is_refused_with_the_limit() -> None:
    from modeldeck.billing import estimate
    from modeldeck.catalog import load_catalog
    from modeldeck.errors import ValidationFailed

    catalog = load_catalog()
    spec = _estimate("estimate qwen3-max-2025-09-23 ptu in=10k max_input=200000").spec
    with pytest.raises(ValidationFailed, match="at most 128,000 input tokens") as err:
        estimate(spec, catalog)
    assert "overflow to pay-as-you-go" in str(err.value)
    spec = _estimate("estimate qwen3-32b mu units=1 context=65536").spec
    with pytest.raises(ValidationFailed, match="fixed at 131,072 tokens"):
        estimate(spec, catalog)
