"""Splitting command text into words like a shell (Slack's smart quotes too), and back.

`tokenize` reads what people type; `join_argv` turns CLI arguments the shell already split into
text `tokenize` reads back into the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modeldeck.errors import GrammarError
from modeldeck.grammar.messages import shown

__all__ = ["Token", "join_argv", "tokenize"]

_DOUBLE_OPEN = frozenset('"“”')
_DOUBLE_CLOSE = frozenset('"“”')
_SINGLE_OPEN = frozenset("'‘")
_SINGLE_CLOSE = frozenset("'’")
_ESCAPABLE = frozenset('\\"“”')
_SPECIAL = _DOUBLE_OPEN | _SINGLE_OPEN | _SINGLE_CLOSE | {"\\"}


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


def _unclosed(text: str, start: int) -> GrammarError:
    return GrammarError(
        f"The quote opened at '{shown(text[start:])}' is never closed.",
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
