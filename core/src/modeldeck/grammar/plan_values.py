"""Reading the `plan` verb's own option values: coverage, a list of options, one option."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from modeldeck.errors import GrammarError
from modeldeck.grammar.messages import did_you_mean, shown

__all__ = ["PLAN_OPTIONS", "parse_coverage", "parse_option", "parse_options"]

PLAN_OPTIONS: tuple[str, ...] = ("payg", "hourly", "upfront", "schedule", "mu")


def parse_coverage(text: str, key: str = "coverage") -> Decimal:
    """A share from 0 to 1 (0.95), or a percentage (95%)."""
    body = text.strip()
    percent = body.endswith("%")
    try:
        value = Decimal(body.rstrip("%").strip())
    except InvalidOperation:
        value = Decimal(-1)
    if percent and value.is_finite():
        value = value / 100
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise GrammarError(
            f"{key}={shown(text)} is not a share of the tokens: write a fraction from 0 to 1 "
            f"(e.g. {key}=0.95) or a percentage ({key}=95%)."
        )
    return value


def parse_option(text: str, key: str = "option") -> str:
    """One of the planner's options."""
    value = text.strip().lower()
    if value not in PLAN_OPTIONS:
        raise GrammarError(
            f"{key}={shown(text)} is not a planner option: use {', '.join(PLAN_OPTIONS)}."
            + did_you_mean(value, PLAN_OPTIONS)
        )
    return value


def parse_options(text: str, key: str = "options") -> list[str]:
    """A comma list of the planner's options (each once), e.g. hourly,upfront."""
    names = [parse_option(part, key) for part in text.split(",") if part.strip()]
    if not names:
        raise GrammarError(f"{key}= lists no option: e.g. {key}=hourly,upfront.")
    return list(dict.fromkeys(names))
