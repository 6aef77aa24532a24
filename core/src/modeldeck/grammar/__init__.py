"""The one command grammar: CLI, Slack and notebook text parsed once into typed commands.

The package, by what each module does:

- `tokens`: splitting text into words like a shell (Slack's smart quotes too), and back;
- `values`: reading one option value (numbers, durations, times, periods, choices);
- `keys`: the key=value options and what they mean;
- `commands`: the typed command models, each the single source of its verb's keys;
- `verbs`: the verb table (usage, description, examples, model), plugins' verbs included;
- `parser`: text → command, with one-paragraph `GrammarError`s;
- `help`: help text, read from the verb table and the models.
"""

from __future__ import annotations

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
