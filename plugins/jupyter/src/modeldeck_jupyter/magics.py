"""IPython magics: `%load_ext modeldeck_jupyter`, then `%deck <command>` in the grammar of the CLI.

`%deck` parses the line once (the grammar) and runs the command with `deck.run(command, actor)`
on the deck the panel would use: one given with `use(...)`, else the panel last opened in this
kernel, else `connect()` (the configured server, or the core in-process). The line reaches the
grammar exactly as typed (no `$var` or `{expr}` expansion), so `reason="..."` means what it means
in Slack. Answers are displayed as the renderer registry's `html` for the result (estimates and
costs as tables); a mistake is shown as one clear line, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand
from IPython.display import display

from modeldeck.api import DeckAPI
from modeldeck.domain import Actor
from modeldeck.errors import ConfigError, NotLinked, UserError
from modeldeck.results import Result
from modeldeck_jupyter.connect import Connection, checked_user, connect, describe
from modeldeck_jupyter.render import error_html, error_text, esc

log = logging.getLogger(__name__)

# Verbs that need no linked principal (the panel prices and lists the catalog for anyone too).
OPEN_VERBS = {"", "help", "models", "estimate", "compare"}


@dataclass
class DeckAnswer:
    """What one `%deck` line produced: the text, optional HTML, and the typed result."""

    text: str
    ok: bool = True
    html: str | None = None
    result: Result | None = field(default=None, repr=False)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"text/plain": self.text}
        if self.html is not None:
            bundle["text/html"] = self.html
        return bundle

    def __str__(self) -> str:
        return self.text


def result_answer(result: Result) -> DeckAnswer:
    """A command's result as an answer: its text, and its HTML from the renderer registry."""
    from modeldeck.rendering import render

    html: str | None
    try:
        html = render(result, "html")
    except (ValueError, KeyError, TypeError, LookupError):  # the text still says it all
        log.debug("no HTML for %s", type(result).__name__, exc_info=True)
        html = None
    return DeckAnswer(text=result.text, ok=result.ok, html=html, result=result)


def with_backend(answer: DeckAnswer, connection: Connection, why: str) -> DeckAnswer:
    """The answer with one line naming the backend it came from (never a secret)."""
    note = f"via {connection.target} ({why})"
    answer.text = f"{answer.text}\n{note}"
    if answer.html is not None:
        answer.html += f"<div class='modeldeck-backend'>{esc(note)}</div>"
    return answer


def error_answer(exc: BaseException) -> DeckAnswer:
    """A mistake or failure as one clear line (and red HTML), never a traceback."""
    text = error_text(exc)
    return DeckAnswer(text=f"⚠ {text}", ok=False, html=error_html(text))


def _open_panel() -> Any:
    """The panel last opened in this kernel, if still open (imports no widgets when none is)."""
    panel = sys.modules.get("modeldeck_jupyter.panel")
    ref = getattr(panel, "_current", None)
    return ref() if ref is not None else None


@magics_class
class DeckMagics(Magics):
    """`%deck <command>`: one command of the modeldeck grammar, as this notebook's user."""

    def __init__(self, shell: InteractiveShell | None = None) -> None:
        super().__init__(shell)
        self._given: Connection | None = None
        self._given_user: str | None = None
        self._own: Connection | None = None
        self.last_answer: DeckAnswer | None = None

    def use(self, deck: Any = None, user: str | None = None) -> None:
        """Point `%deck` at a deck or a panel (None: back to the panel or the configured deck).

        In-process with principals configured, `user` may not name another user's principal.
        """
        panel = sys.modules.get("modeldeck_jupyter.panel")
        if panel is not None and isinstance(deck, panel.DeckPanel):
            if deck.connection is None or deck.problem is not None:
                raise ConfigError(
                    f"That panel is not connected: {deck.problem or 'no connection'}",
                    hint="Fix the panel's connection first; %deck uses no other backend.",
                )
            self._given = deck.connection
            self._given_user = checked_user(deck.connection, user or deck.user)
        elif deck is None:
            self._given, self._given_user = None, user
        else:
            given = describe(deck)
            self._given, self._given_user = given, checked_user(given, user)

    def connection(self) -> tuple[Connection, str, str]:
        """The connection and notebook user `%deck` acts with now, and where that came from.

        Never a silent fallback: a panel that failed to connect is an error here, not a reason
        to answer from the local store instead of the team server.
        """
        if self._given is not None:
            user = self._given_user or checked_user(self._given, None)
            return self._given, user, "given with use()"
        current = _open_panel()
        if current is not None:
            current.wait()  # a panel still connecting answers once it is connected
            if current.connection is None or current.problem is not None:
                raise ConfigError(
                    f"The panel opened in this kernel is not connected: {current.problem}",
                    hint="Fix the connection and run the panel's cell again, or point %deck "
                    "at a deck with magics_of(get_ipython()).use(...); %deck will not answer "
                    "from another backend.",
                )
            user = checked_user(current.connection, self._given_user or current.user)
            return current.connection, user, "the panel's connection"
        if self._own is None:
            self._own = connect()
        return self._own, checked_user(self._own, self._given_user), "configured, no panel open"

    def target(self) -> tuple[DeckAPI, str]:
        """The deck and notebook user `%deck` acts with right now."""
        connection, user, _why = self.connection()
        return connection.deck, user

    def run(self, line: str) -> DeckAnswer:
        """Run one command line and return the answer (what `%deck` displays)."""
        text = line.strip()
        verb = text.split(maxsplit=1)[0].lower() if text else ""
        try:
            from modeldeck.grammar import parse

            command = parse(text or "help")  # parsed once, here; the deck gets the command
            verb = command.verb
            connection, user, why = self.connection()
            deck = connection.deck
            try:
                actor = deck.resolve_actor("jupyter", user)
            except NotLinked:
                if verb not in OPEN_VERBS:
                    raise
                actor = Actor(principal=f"jupyter:{user}", surface="jupyter", roles=[])
            answer = with_backend(result_answer(deck.run(command, actor)), connection, why)
        except Exception as exc:
            log.debug("%%deck %s failed", verb, exc_info=not isinstance(exc, UserError))
            answer = error_answer(exc)
        self.last_answer = answer
        return answer

    @no_var_expand
    @line_magic
    def deck(self, line: str) -> None:
        """%deck <command>: e.g. `%deck estimate qwen3-32b mu units=1 hours=10`, `%deck help`."""
        display(self.run(line))

    def close(self) -> None:
        """Close the deck this extension opened itself (never one it was given)."""
        if self._own is not None:
            closer = getattr(self._own.deck, "close", None)
            if callable(closer):
                closer()
            self._own = None


_loaded: dict[int, DeckMagics] = {}


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """`%load_ext modeldeck_jupyter`: register `%deck` in this shell."""
    if id(ipython) in _loaded:
        return
    magics = DeckMagics(ipython)
    ipython.register_magics(magics)
    _loaded[id(ipython)] = magics


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """`%unload_ext` / `%reload_ext`: close what `%deck` opened."""
    magics = _loaded.pop(id(ipython), None)
    if magics is not None:
        magics.close()


def magics_of(ipython: InteractiveShell) -> DeckMagics | None:
    """The loaded `%deck` magics of a shell (to call `use(...)` on), if any."""
    return _loaded.get(id(ipython))
