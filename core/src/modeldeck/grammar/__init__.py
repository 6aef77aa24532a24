"""The one command grammar: CLI, Slack and notebook text parsed once into typed commands.

The package, by what each module does:

- `tokens`: splitting text into words like a shell (Slack's smart quotes too), and back;
- `values`: reading one option value (numbers, durations, times, periods, choices);
- `keys`: the key=value options and what they mean;
- `commands`: the typed command models, each the single source of its verb's keys;
- `verbs`: the verb table (usage, description, examples, model), plugins' verbs included;
- `parser`: text → command, with one-paragraph `GrammarError`s;
- `help`: help text, read from the verb table and the models.

The names below load on first use: `modeldeck --help` reads only the verb table, and must not
build the command models (pydantic) that parsing a command needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modeldeck.grammar.commands import (
        AlertsCommand,
        ApprovalsCommand,
        ApproveCommand,
        BudgetCommand,
        Command,
        CommandModel,
        CostCommand,
        DeployCommand,
        EstimateCommand,
        HelpCommand,
        LimitsCommand,
        ListCommand,
        ModelsCommand,
        PlanCommand,
        RejectCommand,
        RenewCommand,
        ScaleCommand,
        ScheduleCommand,
        SchedulesCommand,
        StatusCommand,
        UnpublishCommand,
        UnscheduleCommand,
        WithdrawCommand,
        command_adapter,
    )
    from modeldeck.grammar.help import help_text
    from modeldeck.grammar.keys import KEYS, KeyInfo
    from modeldeck.grammar.parser import parse, parse_argv
    from modeldeck.grammar.tokens import Token, join_argv, tokenize
    from modeldeck.grammar.validate import validate_command
    from modeldeck.grammar.values import (
        parse_duration,
        parse_hours,
        parse_hours_per_day,
        parse_number,
        parse_value,
    )
    from modeldeck.grammar.verbs import VERBS, VerbInfo, all_verbs

_WHERE = {
    "AlertsCommand": "modeldeck.grammar.commands",
    "ApprovalsCommand": "modeldeck.grammar.commands",
    "ApproveCommand": "modeldeck.grammar.commands",
    "BudgetCommand": "modeldeck.grammar.commands",
    "Command": "modeldeck.grammar.commands",
    "CommandModel": "modeldeck.grammar.commands",
    "CostCommand": "modeldeck.grammar.commands",
    "DeployCommand": "modeldeck.grammar.commands",
    "EstimateCommand": "modeldeck.grammar.commands",
    "HelpCommand": "modeldeck.grammar.commands",
    "KEYS": "modeldeck.grammar.keys",
    "KeyInfo": "modeldeck.grammar.keys",
    "LimitsCommand": "modeldeck.grammar.commands",
    "ListCommand": "modeldeck.grammar.commands",
    "ModelsCommand": "modeldeck.grammar.commands",
    "PlanCommand": "modeldeck.grammar.commands",
    "RejectCommand": "modeldeck.grammar.commands",
    "RenewCommand": "modeldeck.grammar.commands",
    "ScaleCommand": "modeldeck.grammar.commands",
    "ScheduleCommand": "modeldeck.grammar.commands",
    "SchedulesCommand": "modeldeck.grammar.commands",
    "StatusCommand": "modeldeck.grammar.commands",
    "Token": "modeldeck.grammar.tokens",
    "UnpublishCommand": "modeldeck.grammar.commands",
    "UnscheduleCommand": "modeldeck.grammar.commands",
    "VERBS": "modeldeck.grammar.verbs",
    "VerbInfo": "modeldeck.grammar.verbs",
    "WithdrawCommand": "modeldeck.grammar.commands",
    "all_verbs": "modeldeck.grammar.verbs",
    "command_adapter": "modeldeck.grammar.commands",
    "help_text": "modeldeck.grammar.help",
    "join_argv": "modeldeck.grammar.tokens",
    "parse": "modeldeck.grammar.parser",
    "parse_argv": "modeldeck.grammar.parser",
    "parse_duration": "modeldeck.grammar.values",
    "parse_hours": "modeldeck.grammar.values",
    "parse_hours_per_day": "modeldeck.grammar.values",
    "parse_number": "modeldeck.grammar.values",
    "parse_value": "modeldeck.grammar.values",
    "tokenize": "modeldeck.grammar.tokens",
    "validate_command": "modeldeck.grammar.validate",
}

__all__ = [
    "KEYS",
    "VERBS",
    "AlertsCommand",
    "ApprovalsCommand",
    "ApproveCommand",
    "BudgetCommand",
    "Command",
    "CommandModel",
    "CostCommand",
    "DeployCommand",
    "EstimateCommand",
    "HelpCommand",
    "KeyInfo",
    "LimitsCommand",
    "ListCommand",
    "ModelsCommand",
    "PlanCommand",
    "RejectCommand",
    "RenewCommand",
    "ScaleCommand",
    "ScheduleCommand",
    "SchedulesCommand",
    "StatusCommand",
    "Token",
    "UnpublishCommand",
    "UnscheduleCommand",
    "VerbInfo",
    "WithdrawCommand",
    "all_verbs",
    "command_adapter",
    "help_text",
    "join_argv",
    "parse",
    "parse_argv",
    "parse_duration",
    "parse_hours",
    "parse_hours_per_day",
    "parse_number",
    "parse_value",
    "tokenize",
    "validate_command",
]


def __getattr__(name: str) -> Any:
    """Import a grammar name when it is first asked for (then it is an attribute)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
