"""Help: the command list, one verb's usage with its keys and examples, and the syntax notes.

Everything here is read from the verb table and the command models, so help cannot drift from
what the parser accepts.
"""

from __future__ import annotations

from modeldeck.errors import GrammarError
from modeldeck.grammar.keys import KEYS
from modeldeck.grammar.messages import did_you_mean, shown
from modeldeck.grammar.verbs import all_verbs, key_places

__all__ = ["SYNTAX_TOPICS", "help_text", "help_topic"]

SYNTAX_TOPICS = ("syntax", "keys", "numbers", "durations", "quotes")

_SYNTAX = """\
Syntax: words are separated by spaces; options are key=value with no spaces around '='; quote \
values with spaces: reason="needed for the launch" (Slack's “smart quotes” work too).
Numbers: 20000, 20,000, 20_000 or 20k. Durations: 90m30s, 1h30m, 7d, 2h, 45s, 1d2h \
(units w, d, h, m, s). Times: ISO 8601, e.g. 2026-03-01T10:00 (no offset = Beijing time). \
Commands, plans, models and keys are case-insensitive; a leading /deck or deck is ignored."""


def help_topic(word: str) -> str:
    """The help topic `word` names (a verb or a syntax topic); GrammarError with the choices."""
    topic = word.strip().lower()
    verbs = all_verbs()
    if topic in verbs or topic in SYNTAX_TOPICS:
        return topic
    choices = [*verbs, *SYNTAX_TOPICS]
    raise GrammarError(
        f"There is no help on '{shown(word)}'. Topics: {', '.join(choices)}."
        + did_you_mean(topic, choices)
    )


def help_text(topic: str | None = None) -> str:
    """The command list, one command's usage with its keys and examples, or the syntax notes."""
    verbs = all_verbs()
    if topic is None or not topic.strip():
        width = max(len(v.usage) for v in verbs.values())
        lines = ["Commands:"]
        lines += [f"  {v.usage.ljust(width)}  {v.description}" for v in verbs.values()]
        lines += ["", "Type 'help <command>' for its options, 'help syntax' for numbers and times."]
        return "\n".join(lines)
    name = help_topic(topic)
    if name in SYNTAX_TOPICS:
        return _SYNTAX
    info = verbs[name]
    lines = [f"Usage: {info.usage}", info.description]
    keys = info.allowed_keys()
    if keys:
        lines += ["", "Options:"]
        for key in keys:
            k = KEYS[key]
            alias = f" (also {', '.join(a + '=' for a in k.aliases)})" if k.aliases else ""
            lines.append(f"  {k.name}={k.value}  {k.description}{alias}; for {key_places(k.name)}")
    lines += ["", "Examples:", *(f"  {example}" for example in info.examples)]
    return "\n".join(lines)
