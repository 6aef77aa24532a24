"""A command that arrives as JSON (from `RemoteDeck`), validated with the same models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from modeldeck.errors import GrammarError
from modeldeck.grammar.commands import CommandModel, command_adapter
from modeldeck.grammar.verbs import VERBS, all_verbs

__all__ = ["validate_command"]


def validate_command(data: Mapping[str, Any]) -> CommandModel:
    """The command `data` describes (built-in or a plugin's verb); GrammarError if it is not one."""
    verb = str(data.get("verb", ""))
    verbs = all_verbs()
    if verb not in verbs:
        raise GrammarError(f"Unknown command {verb!r}.", hint=f"Commands: {', '.join(verbs)}.")
    try:
        if verb in VERBS:
            command: CommandModel = command_adapter.validate_python(dict(data))
            return command
        return verbs[verb].model.model_validate(dict(data))
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or verb
        raise GrammarError(f"The {verb} command is not valid: {where}: {problem['msg']}.") from None
