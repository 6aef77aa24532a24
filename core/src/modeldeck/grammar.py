"""The one command grammar: CLI, Slack and notebook text parsed once into typed commands.

`parse("estimate qwen3-max-2025-09-23 ptu in=20k out=2k hours=10")` gives the same
`EstimateCommand` on every surface, so the same words do the same thing everywhere. Bad input
raises `GrammarError` with one paragraph saying what was wrong and what is allowed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from modeldeck.domain import DeploySpec, LimitsSpec, ScaleSpec
from modeldeck.durations import format_duration, parse_duration
from modeldeck.errors import GrammarError
from modeldeck.timeutil import ensure_aware

__all__ = [
    "KEYS",
    "VERBS",
    "ApprovalsCommand",
    "ApproveCommand",
    "Command",
    "CostCommand",
    "DeployCommand",
    "EstimateCommand",
    "HelpCommand",
    "KeyInfo",
    "LimitsCommand",
    "ListCommand",
    "ModelsCommand",
    "RejectCommand",
    "ScaleCommand",
    "StatusCommand",
    "Token",
    "UnpublishCommand",
    "VerbInfo",
    "command_adapter",
    "help_text",
    "join_argv",
    "parse",
    "parse_argv",
    "parse_duration",
    "parse_number",
    "tokenize",
]

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


class _CommandBase(BaseModel):
    """Fields every command has: the text it was parsed from."""

    model_config = ConfigDict(extra="forbid")

    raw: str


class HelpCommand(_CommandBase):
    """`help [topic]`: the command list, or one verb's usage."""

    verb: Literal["help"] = "help"
    topic: str | None = None


class ModelsCommand(_CommandBase):
    """`models`: the catalog."""

    verb: Literal["models"] = "models"


class EstimateCommand(_CommandBase):
    """`estimate <model> <plan> ...` (or `compare ...`): price a spec."""

    verb: Literal["estimate"] = "estimate"
    spec: DeploySpec


class DeployCommand(_CommandBase):
    """`deploy <model> <plan> ...`: request a new deployment."""

    verb: Literal["deploy"] = "deploy"
    spec: DeploySpec
    reason: str | None = None


class ListCommand(_CommandBase):
    """`list [all]`: deployments, deleted ones too with `all`."""

    verb: Literal["list"] = "list"
    include_deleted: bool = False


class StatusCommand(_CommandBase):
    """`status <deployment>`: one deployment in detail."""

    verb: Literal["status"] = "status"
    deployment: str


class ScaleCommand(_CommandBase):
    """`scale <deployment> units=<n>` or `in=... out=...`: request a new capacity."""

    verb: Literal["scale"] = "scale"
    spec: ScaleSpec
    reason: str | None = None


class LimitsCommand(_CommandBase):
    """`limits <deployment> rpm=... tpm=...`: request new MU rate limits."""

    verb: Literal["limits"] = "limits"
    spec: LimitsSpec
    reason: str | None = None


class UnpublishCommand(_CommandBase):
    """`unpublish <deployment> [confirm]`: request removal of a deployment."""

    verb: Literal["unpublish"] = "unpublish"
    deployment: str
    reason: str | None = None
    confirm: bool = False


class CostCommand(_CommandBase):
    """`cost [<deployment>|all] [period=...]`: spend so far; target None means all."""

    verb: Literal["cost"] = "cost"
    target: str | None = None
    period: str = "month"


class ApprovalsCommand(_CommandBase):
    """`approvals`: requests waiting for a decision."""

    verb: Literal["approvals"] = "approvals"


class ApproveCommand(_CommandBase):
    """`approve <id>`: approve a request."""

    verb: Literal["approve"] = "approve"
    request_id: str


class RejectCommand(_CommandBase):
    """`reject <id> [reason=...]`: reject a request."""

    verb: Literal["reject"] = "reject"
    request_id: str
    reason: str | None = None


Command = Annotated[
    HelpCommand
    | ModelsCommand
    | EstimateCommand
    | DeployCommand
    | ListCommand
    | StatusCommand
    | ScaleCommand
    | LimitsCommand
    | UnpublishCommand
    | CostCommand
    | ApprovalsCommand
    | ApproveCommand
    | RejectCommand,
    Field(discriminator="verb"),
]

command_adapter: TypeAdapter[Command] = TypeAdapter(Command)
"""Validates and serialises any command (e.g. `command_adapter.validate_json(text)`)."""

# ---------------------------------------------------------------------------------------------
# Verbs and keys: the table help, the CLI and Slack are built from
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerbInfo:
    """One verb: how to write it, what it does, examples that parse."""

    name: str
    usage: str
    description: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class KeyInfo:
    """One key=value option: its value syntax, what it means and where it applies."""

    name: str
    value: str
    description: str
    where: str
    aliases: tuple[str, ...] = ()


_MODEL_EG = "qwen3-max-2025-09-23"
_MU_EG = "qwen3-32b"

VERBS: dict[str, VerbInfo] = {
    v.name: v
    for v in (
        VerbInfo(
            "help",
            "help [topic]",
            "Show the commands, or how to write one of them (topics: a command or 'syntax').",
            ("help", "help estimate", "help syntax"),
        ),
        VerbInfo("models", "models", "List the models, modes, plans and prices.", ("models",)),
        VerbInfo(
            "estimate",
            "estimate <model> <ptu|mu> [key=value…] [compare]",
            "Price a deployment before asking for it; add 'compare' to compare plans.",
            (
                f"estimate {_MODEL_EG} ptu in=20k out=2k hours=10",
                f"estimate {_MODEL_EG} ptu in=20,000 out=2,000 billing=upfront days=7",
                f"estimate {_MU_EG} mu units=2 duration=90m30s",
                "estimate qwen3-vl-8b-instruct mu units=1 billing=monthly months=1",
                f"estimate {_MODEL_EG} ptu in=20k out=2k hours_per_day=14 days=30 compare",
            ),
        ),
        VerbInfo(
            "compare",
            "compare <model> <ptu|mu> [key=value…]",
            "Compare the plans and billing methods for the same need (an estimate with 'compare').",
            (f"compare {_MODEL_EG} ptu in=20k out=2k hours_per_day=14 days=30",),
        ),
        VerbInfo(
            "deploy",
            'deploy <model> <ptu|mu> [key=value…] [reason="…"]',
            "Ask for a new deployment; it runs once the approval policy is satisfied.",
            (
                f'deploy {_MODEL_EG} ptu in=20k out=2k reason="launch week"',
                f"deploy {_MU_EG} mu units=2 billing=monthly months=1 suffix=team1",
            ),
        ),
        VerbInfo(
            "list",
            "list [all]",
            "List deployments; 'all' includes deleted ones.",
            ("list", "list all"),
        ),
        VerbInfo(
            "status",
            "status <deployment>",
            "Show one deployment: status, capacity, billing and cost so far.",
            ("status my-deployment",),
        ),
        VerbInfo(
            "scale",
            'scale <deployment> units=<n> | in=<TPM> out=<TPM> [reason="…"]',
            "Ask for a new absolute capacity: units for mu, input/output TPM for ptu.",
            (
                "scale my-mu-deployment units=3",
                'scale my-ptu-deployment in=40k out=4k reason="peak"',
            ),
        ),
        VerbInfo(
            "limits",
            'limits <deployment> rpm=<n> tpm=<n> [reason="…"]',
            "Ask for new rate limits on a mu deployment (requests and tokens per minute).",
            ("limits my-mu-deployment rpm=600 tpm=100k",),
        ),
        VerbInfo(
            "unpublish",
            'unpublish <deployment> [confirm] [reason="…"]',
            "Ask to remove a deployment; 'confirm' says you mean it.",
            ('unpublish my-deployment confirm reason="project over"',),
        ),
        VerbInfo(
            "cost",
            "cost [<deployment>|all] [period=…]",
            "Show spend for one deployment or all of them over a period (default: this month).",
            ("cost", "cost my-deployment period=7d", "cost all period=last-month"),
        ),
        VerbInfo("approvals", "approvals", "List requests waiting for a decision.", ("approvals",)),
        VerbInfo("approve", "approve <id>", "Approve a pending request.", ("approve r-12",)),
        VerbInfo(
            "reject",
            'reject <id> [reason="…"]',
            "Reject a pending request, saying why.",
            ('reject r-12 reason="too expensive"',),
        ),
    )
}

KEYS: dict[str, KeyInfo] = {
    k.name: k
    for k in (
        KeyInfo("in", "<TPM>", "input tokens per minute to reserve", "ptu plans and scale",
                ("input_tpm",)),
        KeyInfo("out", "<TPM>", "output tokens per minute to reserve", "ptu plans and scale",
                ("output_tpm",)),
        KeyInfo("thinking_out", "<TPM>", "thinking output tokens per minute to reserve",
                "ptu plans and scale", ("thinking_output_tpm",)),
        KeyInfo("mode", "instruct|thinking", "how the model runs (default instruct)", "ptu plans"),
        KeyInfo("billing", "hourly|upfront (ptu), hourly|monthly (mu)",
                "billing method (default hourly)", "estimate and deploy"),
        KeyInfo("units", "<n>", "number of model units", "mu plans and scale"),
        KeyInfo("rpm_limit", "<n>", "requests per minute limit", "mu plans", ("rpm",)),
        KeyInfo("tpm_limit", "<n>", "tokens per minute limit", "mu plans", ("tpm",)),
        KeyInfo("rpm", "<n>", "new requests per minute limit", "limits", ("rpm_limit",)),
        KeyInfo("tpm", "<n>", "new tokens per minute limit", "limits", ("tpm_limit",)),
        KeyInfo("context", "<tokens>", "context window to run with (at most the model's)",
                "estimate and deploy", ("max_context_length",)),
        KeyInfo("max_input", "<tokens>", "largest request input you plan to send (checked "
                "against the model's max input)", "estimate and deploy", ("max_input_tokens",)),
        KeyInfo("hours", "<h>", "how long it runs, in hours (decimals allowed)",
                "estimate and deploy"),
        KeyInfo("days", "<n>", "how many days (upfront: prepaid days)", "estimate and deploy"),
        KeyInfo("months", "<n>", "how many months (mu monthly)", "estimate and deploy"),
        KeyInfo("duration", "<duration>", "how long it runs, e.g. 90m30s, 1h30m, 7d",
                "estimate and deploy"),
        KeyInfo("start", "<ISO time>", "when it starts (no offset = Beijing time)", "estimate"),
        KeyInfo("cancel_after", "<duration>", "price cancelling an upfront/monthly order after "
                "this long", "estimate"),
        KeyInfo("hours_per_day", "<h>", "hours a day it runs (for plan comparisons)", "estimate"),
        KeyInfo("auto_renew", "yes|no", "renew an upfront or monthly order before it expires",
                "estimate and deploy", ("auto_renewal",)),
        KeyInfo("suffix", "<text>", "deployment suffix, at most 8 letters, digits or '-'",
                "estimate and deploy"),
        KeyInfo("name", "<text>", "display name of the deployment", "estimate and deploy"),
        KeyInfo("reason", "\"<text>\"", "why, shown to approvers",
                "deploy, scale, limits, unpublish and reject"),
        KeyInfo("period",
                "today|week|month|last-month|year|all|YYYY-MM|YYYY-MM-DD|<duration>|<from>..<to>",
                "which spend to show (default month; a duration means the last 7d, 24h…)", "cost"),
    )
}  # fmt: skip

_PLANS = ("ptu", "mu")
_PLAN_KEYS: dict[str, tuple[str, ...]] = {
    "ptu": ("in", "out", "thinking_out", "mode", "billing"),
    "mu": ("units", "billing", "rpm_limit", "tpm_limit"),
}
_BILLING: dict[str, tuple[str, ...]] = {"ptu": ("hourly", "upfront"), "mu": ("hourly", "monthly")}
_DURATION_KEYS = ("hours", "days", "months", "duration")
_ESTIMATE_KEYS = (
    "start",
    "cancel_after",
    "hours_per_day",
    "auto_renew",
    "suffix",
    "name",
    "context",
    "max_input",
)
_DEPLOY_KEYS = ("auto_renew", "suffix", "name", "reason", "context", "max_input")
_SYNTAX_TOPICS = ("syntax", "keys", "numbers", "durations", "quotes")
_PERIOD_WORDS: dict[str, str] = {
    "today": "today", "day": "today", "yesterday": "yesterday", "week": "week",
    "month": "month", "this-month": "month", "last-month": "last-month", "year": "year",
    "all": "all",
}  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------

_DOUBLE_OPEN = frozenset('"“”')
_DOUBLE_CLOSE = frozenset('"“”')
_SINGLE_OPEN = frozenset("'‘")
_SINGLE_CLOSE = frozenset("'’")
_ESCAPABLE = frozenset('\\"“”')
_SPECIAL = _DOUBLE_OPEN | _SINGLE_OPEN | _SINGLE_CLOSE | {"\\"}
_MAX_SHOWN = 40


@dataclass(frozen=True)
class Token:
    """One word of a command; `eq` is the index of the `=` that makes it key=value, if any."""

    text: str
    eq: int | None = None

    @property
    def key(self) -> str | None:
        return None if self.eq is None else self.text[: self.eq]

    @property
    def value(self) -> str:
        return self.text if self.eq is None else self.text[self.eq + 1 :]


def _shown(text: str) -> str:
    """User text shortened and flattened so an error stays one readable paragraph."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_SHOWN else flat[: _MAX_SHOWN - 1] + "…"


def _unclosed(text: str, start: int) -> GrammarError:
    return GrammarError(
        f"The quote opened at '{_shown(text[start:])}' is never closed.",
        hint='Close it with the same kind of quote, e.g. reason="needed for the launch".',
    )


def tokenize(text: str) -> list[Token]:
    """Split like a shell: whitespace separates, quotes (also Slack's “ ” ‘ ’) group, `\\` escapes.

    A quote opens only at the start of a word or right after its key's `=`, so apostrophes
    (don't, don’t) stay literal. A single-quoted part ends at a closing quote followed by a space.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        buf: list[str] = []
        eq: int | None = None
        quoted = False
        can_quote = True
        while i < n and not text[i].isspace():
            c = text[i]
            if can_quote and c in _DOUBLE_OPEN:
                j = i + 1
                while True:
                    if j >= n:
                        raise _unclosed(text, i)
                    d = text[j]
                    if d == "\\" and j + 1 < n and text[j + 1] in _ESCAPABLE:
                        buf.append(text[j + 1])
                        j += 2
                        continue
                    if d in _DOUBLE_CLOSE:
                        break
                    buf.append(d)
                    j += 1
                i, quoted, can_quote = j + 1, True, True
            elif can_quote and c in _SINGLE_OPEN:
                close = _single_close(text, i + 1)
                if close is None:
                    raise _unclosed(text, i)
                buf.append(text[i + 1 : close])
                i, quoted, can_quote = close + 1, True, True
            elif c == "\\":
                buf.append(text[i + 1] if i + 1 < n else "\\")
                i += 2
                can_quote = False
            elif c == "=" and eq is None and not quoted:
                eq = len(buf)
                buf.append("=")
                i += 1
                can_quote = True
            else:
                buf.append(c)
                i += 1
                can_quote = False
        tokens.append(Token("".join(buf), eq))
    return tokens


def _single_close(text: str, start: int) -> int | None:
    """Where a single-quoted part ends: a closer before a space or the end, else the first one."""
    first: int | None = None
    for j in range(start, len(text)):
        if text[j] in _SINGLE_CLOSE:
            if j + 1 == len(text) or text[j + 1].isspace():
                return j
            if first is None:
                first = j
    return first


def _quote(value: str) -> str:
    """`value` as one word `tokenize` reads back exactly (double quotes only when needed)."""
    if value and not any(c.isspace() or c in _SPECIAL or c in _DOUBLE_CLOSE for c in value):
        return value
    escaped = "".join("\\" + c if c in _ESCAPABLE else c for c in value)
    return f'"{escaped}"'


def join_argv(argv: Sequence[str]) -> str:
    """Join CLI arguments into command text that `tokenize` splits back into the same words."""
    words: list[str] = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and (not key or _quote(key) == key):
            words.append(f"{key}={_quote(value)}")
        else:
            words.append(_quote(arg))
    return " ".join(words)


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"([0-9][0-9,_]*)(\.[0-9]+)?([kK]?)")
_COMMAS = re.compile(r"[0-9]{1,3}(,[0-9]{3})+")
_UNDERSCORES = re.compile(r"[0-9]+(_[0-9]+)*")
_NUMBER_STYLES = "numbers look like 20000, 20,000, 20_000 or 20k"
_MAX_DIGITS = 15


def _plain_digits(whole: str, key: str, text: str) -> str:
    """The digits of a whole part written 20000, 20,000 or 20_000; GrammarError otherwise."""
    if "," in whole and "_" in whole:
        raise GrammarError(f"{key}={_shown(text)} mixes ',' and '_': {_NUMBER_STYLES}.")
    if "," in whole and not _COMMAS.fullmatch(whole):
        raise GrammarError(
            f"{key}={_shown(text)} has misplaced commas: group digits by three, e.g. 20,000."
        )
    if "_" in whole and not _UNDERSCORES.fullmatch(whole):
        raise GrammarError(f"{key}={_shown(text)} has misplaced underscores: write e.g. 20_000.")
    digits = whole.replace(",", "").replace("_", "")
    if len(digits) > _MAX_DIGITS:
        raise GrammarError(f"{key}={_shown(text)} is too large.")
    return digits


def parse_number(text: str, key: str = "value", minimum: int = 0) -> int:
    """A whole number written 20000, 20,000, 20_000 or 20k (1.5k too); GrammarError otherwise."""
    body = text.strip()
    match = _NUMBER.fullmatch(body)
    if match is None:
        if body.startswith("-"):
            raise GrammarError(
                f"{key}={_shown(text)} is negative: {key} must be at least {minimum}."
            )
        raise GrammarError(f"{key}={_shown(text)} is not a whole number: {_NUMBER_STYLES}.")
    whole, frac, suffix = match.groups()
    value = Decimal(_plain_digits(whole, key, text) + (frac or ""))
    if suffix:
        value *= 1000
    if value != value.to_integral_value():
        raise GrammarError(f"{key}={_shown(text)} is not a whole number: {_NUMBER_STYLES}.")
    number = int(value)
    if number < minimum:
        raise GrammarError(f"{key}={_shown(text)} is too small: {key} must be at least {minimum}.")
    return number


def _decimal(text: str, key: str, maximum: Decimal | None = None) -> Decimal:
    """A positive decimal such as 10, 1.5 or 1,000.25; GrammarError otherwise."""
    body = text.strip()
    match = _NUMBER.fullmatch(body)
    if match is None or match.group(3):
        raise GrammarError(
            f"{key}={_shown(text)} is not a number: write e.g. {key}=10 or {key}=1.5."
        )
    whole, frac, _ = match.groups()
    try:
        value = Decimal(_plain_digits(whole, key, text) + (frac or ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only plain numbers
        raise GrammarError(f"{key}={_shown(text)} is not a number.") from exc
    if value <= 0:
        raise GrammarError(f"{key}={_shown(text)} must be more than zero.")
    if maximum is not None and value > maximum:
        raise GrammarError(f"{key}={_shown(text)} is too large: at most {maximum}.")
    return value


def _positive_duration(text: str, key: str) -> int:
    seconds = parse_duration(text)
    if seconds <= 0:
        raise GrammarError(f"{key}={_shown(text)} must be longer than zero: e.g. {key}=1h30m.")
    return seconds


def _choice(text: str, key: str, allowed: Sequence[str], context: str = "") -> str:
    value = text.strip().lower()
    if value in allowed:
        return value
    where = f" for {context}" if context else ""
    raise GrammarError(
        f"{key}={_shown(text)} is not allowed{where}: use {' or '.join(allowed)}."
        + _did_you_mean(value, allowed)
    )


_YES = ("yes", "y", "true", "on", "1")
_NO = ("no", "n", "false", "off", "0")


def _yes_no(text: str, key: str) -> bool:
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise GrammarError(f"{key}={_shown(text)} is not yes or no: write {key}=yes or {key}=no.")


def _start(text: str, key: str) -> datetime:
    """An ISO 8601 time; without an offset it is Beijing time, with one it is kept."""
    body = text.strip()
    try:
        value = datetime.fromisoformat(body[:-1] + "+00:00" if body.endswith(("Z", "z")) else body)
    except (ValueError, OverflowError) as exc:
        raise GrammarError(
            f"{key}={_shown(text)} is not an ISO time: write e.g. {key}=2026-03-01T10:00 "
            f"(Beijing time) or {key}=2026-03-01T02:00Z."
        ) from exc
    return ensure_aware(value)


def _text(text: str, key: str) -> str:
    value = " ".join(text.split())
    if not value:
        raise GrammarError(f'{key}= is empty: write e.g. {key}="…" or leave it out.')
    return value


_SUFFIX = re.compile(r"[A-Za-z0-9-]{1,8}")


def _suffix(text: str, key: str) -> str:
    value = text.strip()
    if not _SUFFIX.fullmatch(value):
        raise GrammarError(
            f"{key}={_shown(text)} is not a valid suffix: use 1 to 8 letters, digits or '-'."
        )
    return value


_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def _period_range(text: str, key: str) -> str:
    """`<from>..<to>`: two dates (YYYY-MM-DD) or ISO times, the start before the end."""
    start, _, end = text.strip().partition("..")
    parsed = []
    for side in (start, end):
        try:
            parsed.append(datetime.fromisoformat(side.strip().upper()))
        except ValueError:
            raise GrammarError(
                f"{key}={_shown(text)} is not a period range: write <from>..<to> with dates "
                "(2026-03-01..2026-03-08) or ISO times (2026-03-01T10:00..2026-03-01T18:00)."
            ) from None
    if (parsed[0].tzinfo is None) != (parsed[1].tzinfo is None):
        raise GrammarError(f"{key}={_shown(text)}: give both ends with an offset, or neither.")
    if parsed[0] >= parsed[1]:
        raise GrammarError(f"{key}={_shown(text)}: the start must be before the end.")
    return f"{start.strip().upper()}..{end.strip().upper()}"


def _period(text: str, key: str) -> str:
    """Normalise a cost period: a word, a month `YYYY-MM`, a day `YYYY-MM-DD` or a duration."""
    if ".." in text:
        return _period_range(text, key)
    value = text.strip().lower().replace("_", "-")
    if value in _PERIOD_WORDS:
        return _PERIOD_WORDS[value]
    if _MONTH.fullmatch(value):
        return value
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError as exc:
            raise GrammarError(f"{key}={_shown(text)} is not a real date.") from exc
        return value
    try:
        seconds = parse_duration(value)
    except GrammarError:
        seconds = 0
    if seconds > 0:
        return format_duration(seconds)
    allowed = (
        "today, yesterday, week, month, last-month, year, all, YYYY-MM, YYYY-MM-DD, <from>..<to>"
    )
    raise GrammarError(
        f"{key}={_shown(text)} is not a period: use {allowed} or a duration such as 7d or 24h."
        + _did_you_mean(value, list(_PERIOD_WORDS))
    )


_Parser = Callable[[str, str], Any]


def _count(minimum: int) -> _Parser:
    return lambda text, key: parse_number(text, key, minimum)


_VALUE_PARSERS: dict[str, _Parser] = {
    "in": _count(0),
    "out": _count(0),
    "thinking_out": _count(0),
    "units": _count(1),
    "rpm_limit": _count(1),
    "tpm_limit": _count(1),
    "rpm": _count(1),
    "tpm": _count(1),
    "days": _count(1),
    "months": _count(1),
    "context": _count(1),
    "max_input": _count(1),
    "hours": lambda text, key: _decimal(text, key),
    "hours_per_day": lambda text, key: _decimal(text, key, Decimal(24)),
    "duration": _positive_duration,
    "cancel_after": _positive_duration,
    "start": _start,
    "auto_renew": _yes_no,
    "mode": lambda text, key: _choice(text, key, ("instruct", "thinking")),
    "billing": lambda text, key: text.strip().lower(),  # checked against the plan later
    "suffix": _suffix,
    "name": _text,
    "reason": _text,
    "period": _period,
}

# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def _usage(verb: str) -> str:
    return f"Usage: {VERBS[verb].usage}, e.g. {VERBS[verb].examples[0]}"


@dataclass
class _Args:
    """A verb's words split into positional words and key=value options (in order)."""

    verb: str
    words: list[str]
    options: list[tuple[str, str]]  # (key as written, value)


def _split(verb: str, tokens: Sequence[Token]) -> _Args:
    words: list[str] = []
    options: list[tuple[str, str]] = []
    for index, token in enumerate(tokens):
        if token.key is None:
            if token.text.startswith("--") or token.text in {"-h", "-y"}:
                raise GrammarError(
                    f"'{_shown(token.text)}' is not understood: options are written key=value "
                    f"and words are plain. {_usage(verb)}."
                )
            words.append(token.text)
            continue
        key = token.key.strip()
        if not key:
            raise GrammarError(
                f"'{_shown(token.text)}' has no key before '=': write key=value, e.g. units=2. "
                f"{_usage(verb)}."
            )
        if not token.value and index + 1 < len(tokens) and tokens[index + 1].key is None:
            raise GrammarError(
                f"{key}= has no value: write it without spaces, e.g. "
                f"{key}={_shown(tokens[index + 1].text)}."
            )
        options.append((key, token.value))
    return _Args(verb, words, options)


def _normal_key(key: str) -> str:
    return key.lower().replace("-", "_")


def _options(args: _Args, allowed: Sequence[str], context: str) -> dict[str, Any]:
    """Check keys against `allowed` (aliases resolved, no repeats) and parse their values."""
    values: dict[str, Any] = {}
    written: dict[str, str] = {}
    for raw_key, raw_value in args.options:
        key = _normal_key(raw_key)
        if key not in allowed:
            alias = next((k for k in allowed if key in KEYS[k].aliases), None)
            if alias is None:
                raise _bad_key(raw_key, key, allowed, context)
            key = alias
        if key in values:
            again = "" if written[key] == raw_key else f" (as '{written[key]}' and '{raw_key}')"
            raise GrammarError(f"Key '{key}' is given twice{again}: give each key once.")
        if not raw_value.strip():
            raise GrammarError(
                f"{raw_key}= has no value: write e.g. {key}={KEYS[key].value.split('|')[0]}."
            )
        values[key] = _VALUE_PARSERS[key](raw_value, key)
        written[key] = raw_key
    return values


def _bad_key(raw_key: str, key: str, allowed: Sequence[str], context: str) -> GrammarError:
    listed = f"Allowed: {', '.join(allowed)}." if allowed else f"{context} takes no key=value."
    known = {k for info in KEYS.values() for k in (info.name, *info.aliases)}
    if key == "billing" and context.startswith("'scale'"):
        return GrammarError(
            "The billing method of a deployment cannot be changed after it is created.",
            hint="To switch between hourly and upfront/monthly, unpublish it and deploy it again "
            "with the new billing=.",
        )
    if key in known:
        info = KEYS.get(key) or next(i for i in KEYS.values() if key in i.aliases)
        return GrammarError(
            f"Key '{_shown(raw_key)}' does not apply to {context}: it is for {info.where}.",
            hint=listed,
        )
    return GrammarError(
        f"Unknown key '{_shown(raw_key)}' for {context}.",
        hint=listed + _did_you_mean(key, allowed),
    )


_TAKES_REASON = frozenset({"deploy", "scale", "limits", "unpublish", "reject"})


def _no_more_words(args: _Args, taken: int, what: str) -> None:
    if len(args.words) > taken:
        extra = args.words[taken]
        tip = ' Put a reason in quotes: reason="…".' if args.verb in _TAKES_REASON else ""
        raise GrammarError(f"Unexpected '{_shown(extra)}' after {what}.{tip} {_usage(args.verb)}.")


def _one_word(args: _Args, what: str) -> str:
    if not args.words:
        raise GrammarError(f"Expected {what} after '{args.verb}'. {_usage(args.verb)}.")
    word = args.words[0]
    if not word.strip():
        raise GrammarError(f"The {what.split(' ', 1)[-1]} is empty. {_usage(args.verb)}.")
    return word.strip()


# --- verb handlers ---------------------------------------------------------------------------


def _parse_spec(args: _Args, kind: Literal["estimate", "deploy"]) -> tuple[DeploySpec, str | None]:
    """The DeploySpec of estimate/compare/deploy, plus the reason (deploy only)."""
    words = (
        [args.words[0], args.words[1], *(w for w in args.words[2:] if w.lower() != "compare")]
        if len(args.words) > 2
        else list(args.words)
    )
    flags = len(args.words) - len(words)
    compare = args.verb == "compare" or flags > 0
    if flags and (kind != "estimate" or flags + (args.verb == "compare") > 1):
        if kind != "estimate":
            raise GrammarError(
                "'compare' belongs to estimate: write 'estimate … compare' or 'compare …' to "
                "compare plans before deploying."
            )
        raise GrammarError("'compare' is given twice: say it once.")
    if not words:
        raise GrammarError(f"Expected a model after '{args.verb}'. {_usage(args.verb)}.")
    model = words[0].strip().lower()
    if model in _PLANS:
        raise GrammarError(f"Expected a model before the plan '{model}'. {_usage(args.verb)}.")
    if not model or any(c.isspace() for c in model):
        raise GrammarError(
            f"'{_shown(words[0])}' is not a model name: model names have no spaces, e.g. "
            f"{_MODEL_EG}. Type 'models' to see them."
        )
    if len(words) < 2:
        raise GrammarError(
            "Expected a plan after the model: ptu or mu.", hint=_usage(args.verb) + "."
        )
    plan_word = words[1].strip().lower()
    if plan_word not in _PLANS:
        raise GrammarError(
            f"'{_shown(words[1])}' is not a plan: use ptu or mu after the model."
            + _did_you_mean(plan_word, _PLANS),
            hint=_usage(args.verb) + ".",
        )
    plan: Literal["ptu", "mu"] = "ptu" if plan_word == "ptu" else "mu"
    _no_more_words(_Args(args.verb, words, args.options), 2, f"the plan '{plan}'")
    extra = _ESTIMATE_KEYS if kind == "estimate" else _DEPLOY_KEYS
    allowed = (*_PLAN_KEYS[plan], *_DURATION_KEYS, *extra)
    context = f"a {plan} {'estimate' if kind == 'estimate' else 'deploy'}"
    values = _options(args, allowed, context)

    given = [k for k in _DURATION_KEYS if k in values]
    if len(given) > 1:
        raise GrammarError(
            "Give only one duration: hours=, days=, months= or duration= "
            f"(got {' and '.join(k + '=' for k in given)})."
        )
    billing = values.get("billing", "hourly")
    if billing not in _BILLING[plan]:
        raise GrammarError(
            f"billing={_shown(billing)} is not available for {plan}: use "
            f"{' or '.join(_BILLING[plan])}." + _did_you_mean(billing, _BILLING[plan])
        )
    if plan == "ptu" and not any(k in values for k in ("in", "out", "thinking_out")):
        raise GrammarError(
            f"{context.capitalize()} needs a capacity: in=<input TPM> and/or out=<output TPM>, "
            "e.g. in=20k out=2k."
        )
    if values.get("auto_renew") and billing == "hourly":
        raise GrammarError(
            "auto_renew=yes only applies to prepaid orders: add "
            f"billing={'upfront' if plan == 'ptu' else 'monthly'}."
        )
    # mode stays unset unless given, so billing can pick a model's only mode (model_fields_set)
    chosen_mode = {"mode": values["mode"]} if "mode" in values else {}
    spec = DeploySpec(
        model=model,
        plan=plan,
        **chosen_mode,
        billing=billing,
        input_tpm=values.get("in"),
        output_tpm=values.get("out"),
        thinking_output_tpm=values.get("thinking_out"),
        units=values.get("units", 1 if plan == "mu" else None),
        rpm_limit=values.get("rpm_limit"),
        tpm_limit=values.get("tpm_limit"),
        max_context_length=values.get("context"),
        max_input_tokens=values.get("max_input"),
        hours=values.get("hours"),
        days=values.get("days"),
        months=values.get("months"),
        duration_seconds=values.get("duration"),
        start=values.get("start"),
        cancel_after_seconds=values.get("cancel_after"),
        hours_per_day=values.get("hours_per_day"),
        compare=compare,
        suffix=values.get("suffix"),
        name=values.get("name"),
        auto_renewal=values.get("auto_renew", False),
    )
    return spec, values.get("reason")


def _estimate(raw: str, args: _Args) -> EstimateCommand:
    spec, _ = _parse_spec(args, "estimate")
    return EstimateCommand(raw=raw, spec=spec)


def _deploy(raw: str, args: _Args) -> DeployCommand:
    spec, reason = _parse_spec(args, "deploy")
    return DeployCommand(raw=raw, spec=spec, reason=reason)


def _help(raw: str, args: _Args) -> HelpCommand:
    _options(args, (), "help")
    _no_more_words(args, 1, "the topic")
    if not args.words:
        return HelpCommand(raw=raw)
    topic = _help_topic(args.words[0])
    return HelpCommand(raw=raw, topic=topic)


def _help_topic(word: str) -> str:
    topic = word.strip().lower()
    if topic in VERBS or topic in _SYNTAX_TOPICS:
        return topic
    choices = [*VERBS, *_SYNTAX_TOPICS]
    raise GrammarError(
        f"There is no help on '{_shown(word)}'. Topics: {', '.join(choices)}."
        + _did_you_mean(topic, choices)
    )


def _models(raw: str, args: _Args) -> ModelsCommand:
    _options(args, (), "'models'")
    _no_more_words(args, 0, "'models'")
    return ModelsCommand(raw=raw)


def _approvals(raw: str, args: _Args) -> ApprovalsCommand:
    _options(args, (), "'approvals'")
    _no_more_words(args, 0, "'approvals'")
    return ApprovalsCommand(raw=raw)


def _list(raw: str, args: _Args) -> ListCommand:
    _options(args, (), "'list'")
    if args.words and args.words[0].lower() != "all":
        raise GrammarError(
            f"'list' takes only the word 'all' (to include deleted deployments), not "
            f"'{_shown(args.words[0])}'. {_usage('list')}."
        )
    _no_more_words(args, 1, "'list all'")
    return ListCommand(raw=raw, include_deleted=bool(args.words))


def _status(raw: str, args: _Args) -> StatusCommand:
    deployment = _one_word(args, "a deployment")
    _options(args, (), "'status'")
    _no_more_words(args, 1, "the deployment")
    return StatusCommand(raw=raw, deployment=deployment)


def _scale(raw: str, args: _Args) -> ScaleCommand:
    deployment = _one_word(args, "a deployment")
    _no_more_words(args, 1, "the deployment")
    values = _options(args, ("units", "in", "out", "thinking_out", "reason"), "'scale'")
    tpm = [k for k in ("in", "out", "thinking_out") if k in values]
    if "units" in values and tpm:
        raise GrammarError(
            "Scale with units= (mu) or with in=/out= (ptu), not both. " + _usage("scale") + "."
        )
    if "units" not in values and not tpm:
        raise GrammarError(
            "'scale' needs the new capacity: units=<n> for mu, in=<TPM> and/or out=<TPM> for ptu. "
            + _usage("scale")
            + "."
        )
    spec = ScaleSpec(
        deployment=deployment,
        units=values.get("units"),
        input_tpm=values.get("in"),
        output_tpm=values.get("out"),
        thinking_output_tpm=values.get("thinking_out"),
    )
    return ScaleCommand(raw=raw, spec=spec, reason=values.get("reason"))


def _limits(raw: str, args: _Args) -> LimitsCommand:
    deployment = _one_word(args, "a deployment")
    _no_more_words(args, 1, "the deployment")
    values = _options(args, ("rpm", "tpm", "reason"), "'limits'")
    if "rpm" not in values and "tpm" not in values:
        raise GrammarError(
            "'limits' needs rpm=<requests per minute> and/or tpm=<tokens per minute>. "
            + _usage("limits")
            + "."
        )
    spec = LimitsSpec(
        deployment=deployment, rpm_limit=values.get("rpm"), tpm_limit=values.get("tpm")
    )
    return LimitsCommand(raw=raw, spec=spec, reason=values.get("reason"))


def _unpublish(raw: str, args: _Args) -> UnpublishCommand:
    deployment = _one_word(args, "a deployment")
    if deployment.lower() == "confirm":
        raise GrammarError(f"Expected a deployment before 'confirm'. {_usage('unpublish')}.")
    rest = args.words[1:]
    confirm = False
    if rest and rest[0].lower() == "confirm":
        confirm = True
        rest = rest[1:]
    if rest:
        _no_more_words(args, len(args.words) - len(rest), "the deployment")
    values = _options(args, ("reason",), "'unpublish'")
    return UnpublishCommand(
        raw=raw, deployment=deployment, reason=values.get("reason"), confirm=confirm
    )


def _cost(raw: str, args: _Args) -> CostCommand:
    _no_more_words(args, 1, "the deployment")
    values = _options(args, ("period",), "'cost'")
    target = args.words[0].strip() if args.words else None
    if target is not None and (not target or target.lower() == "all"):
        target = None
    return CostCommand(raw=raw, target=target, period=values.get("period", "month"))


def _approve(raw: str, args: _Args) -> ApproveCommand:
    request_id = _one_word(args, "a request id")
    _no_more_words(args, 1, "the request id")
    _options(args, (), "'approve'")
    return ApproveCommand(raw=raw, request_id=request_id)


def _reject(raw: str, args: _Args) -> RejectCommand:
    request_id = _one_word(args, "a request id")
    _no_more_words(args, 1, "the request id")
    values = _options(args, ("reason",), "'reject'")
    return RejectCommand(raw=raw, request_id=request_id, reason=values.get("reason"))


_HANDLERS: dict[str, Callable[[str, _Args], Any]] = {
    "help": _help,
    "models": _models,
    "estimate": _estimate,
    "compare": _estimate,
    "deploy": _deploy,
    "list": _list,
    "status": _status,
    "scale": _scale,
    "limits": _limits,
    "unpublish": _unpublish,
    "cost": _cost,
    "approvals": _approvals,
    "approve": _approve,
    "reject": _reject,
}


def _parse_tokens(raw: str, tokens: list[Token]) -> Command:
    if tokens and tokens[0].key is None and tokens[0].text.lower() in {"/deck", "deck"}:
        tokens = tokens[1:]
    if not tokens:
        return HelpCommand(raw=raw)
    first = tokens[0]
    if first.key is not None:
        raise GrammarError(
            f"Expected a command first, not '{_shown(first.text)}'. "
            f"Commands: {', '.join(VERBS)}. Type 'help' for more."
        )
    verb = first.text.strip().lower()
    handler = _HANDLERS.get(verb)
    if handler is None:
        raise GrammarError(
            f"Unknown command '{_shown(first.text)}'.{_did_you_mean(verb, list(VERBS))}",
            hint=f"Commands: {', '.join(VERBS)}. Type 'help' for more.",
        )
    result: Command = handler(raw, _split(verb, tokens[1:]))
    return result


def parse(text: str) -> Command:
    """Parse one command of the grammar; GrammarError (one paragraph) for anything else."""
    if not isinstance(text, str):
        raise GrammarError(f"A command must be text, not {type(text).__name__}.")
    try:
        return _parse_tokens(text, tokenize(text))
    except GrammarError:
        raise
    except (ValidationError, ValueError, ArithmeticError) as exc:  # a gap in the checks above
        raise GrammarError(
            f"Could not understand '{_shown(text)}'. Type 'help' for the commands."
        ) from exc


def parse_argv(argv: Sequence[str]) -> Command:
    """Parse CLI arguments (already split by the shell) as one command."""
    return parse(join_argv(argv))


# ---------------------------------------------------------------------------------------------
# Help
# ---------------------------------------------------------------------------------------------

_SYNTAX = """\
Syntax: words are separated by spaces; options are key=value with no spaces around '='; quote \
values with spaces: reason="needed for the launch" (Slack's “smart quotes” work too).
Numbers: 20000, 20,000, 20_000 or 20k. Durations: 90m30s, 1h30m, 7d, 2h, 45s, 1d2h \
(units w, d, h, m, s). Times: ISO 8601, e.g. 2026-03-01T10:00 (no offset = Beijing time). \
Commands, plans, models and keys are case-insensitive; a leading /deck or deck is ignored."""


def _keys_for(verb: str) -> list[str]:
    plan_keys = [*_PLAN_KEYS["ptu"], *_PLAN_KEYS["mu"]]
    if verb in {"estimate", "compare"}:
        return [*plan_keys, *_DURATION_KEYS, *_ESTIMATE_KEYS]
    if verb == "deploy":
        return [*plan_keys, *_DURATION_KEYS, *_DEPLOY_KEYS]
    return {
        "scale": ["units", "in", "out", "thinking_out", "reason"],
        "limits": ["rpm", "tpm", "reason"],
        "unpublish": ["reason"],
        "reject": ["reason"],
        "cost": ["period"],
    }.get(verb, [])


def help_text(topic: str | None = None) -> str:
    """The command list, one command's usage with its keys and examples, or the syntax notes."""
    if topic is None or not topic.strip():
        width = max(len(v.usage) for v in VERBS.values())
        lines = ["Commands:"]
        lines += [f"  {v.usage.ljust(width)}  {v.description}" for v in VERBS.values()]
        lines += ["", "Type 'help <command>' for its options, 'help syntax' for numbers and times."]
        return "\n".join(lines)
    name = _help_topic(topic)
    if name in _SYNTAX_TOPICS:
        return _SYNTAX
    info = VERBS[name]
    lines = [f"Usage: {info.usage}", info.description]
    keys = _keys_for(name)
    if keys:
        lines += ["", "Options:"]
        for key in dict.fromkeys(keys):
            k = KEYS[key]
            alias = f" (also {', '.join(a + '=' for a in k.aliases)})" if k.aliases else ""
            lines.append(f"  {k.name}={k.value}  {k.description}{alias}; for {k.where}")
    lines += ["", "Examples:", *(f"  {example}" for example in info.examples)]
    return "\n".join(lines)
