"""The typed commands the grammar produces: one pydantic model per verb.

Each model is the single source of the keys its verb takes (`allowed_keys`): the parser checks
options against it, help lists it, errors say "Allowed: ..." from it and the CLI completes it.
Commands are what surfaces hand to `DeckAPI.run` (and what `RemoteDeck` sends as JSON): text is
parsed once, where it was typed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from modeldeck.domain import DeploySpec, LimitsSpec, RenewSpec, ScaleSpec
from modeldeck.money import DecimalStr
from modeldeck.planner.result import OptionName
from modeldeck.planner.spec import PlanSpec
from modeldeck.schedules.spec import ScheduleLevel, ScheduleSpec

__all__ = [
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
    "UnpublishCommand",
    "UnscheduleCommand",
    "WithdrawCommand",
    "command_adapter",
]

PLANS: tuple[Literal["ptu"], Literal["mu"]] = ("ptu", "mu")


class CommandModel(BaseModel):
    """Fields every command has: its verb and the text it was parsed from ("" if built in code).

    A plugin's verb subclasses this (with a `verb: Literal[...]` field) and lists its keys.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)  # validators built on first use

    verb: str
    raw: str = ""
    keys: ClassVar[tuple[str, ...]] = ()
    """The key=value options the verb takes (canonical names of `KEYS`)."""

    @classmethod
    def allowed_keys(cls, plan: str | None = None) -> tuple[str, ...]:
        """The keys this verb takes (for a plan, when the verb's keys depend on it)."""
        return cls.keys


class HelpCommand(CommandModel):
    """`help [topic]`: the command list, or one verb's usage."""

    verb: Literal["help"] = "help"
    topic: str | None = None


class ModelsCommand(CommandModel):
    """`models`: the catalog."""

    verb: Literal["models"] = "models"


class _SpecCommand(CommandModel):
    """Keys of the verbs that take a DeploySpec: the plan's own, a duration, then the verb's."""

    plan_keys: ClassVar[dict[str, tuple[str, ...]]] = {
        "ptu": ("in", "out", "thinking_out", "mode", "billing"),
        "mu": ("units", "billing", "rpm_limit", "tpm_limit"),
    }
    duration_keys: ClassVar[tuple[str, ...]] = ("hours", "days", "months", "duration")
    extra_keys: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def allowed_keys(cls, plan: str | None = None) -> tuple[str, ...]:
        plans = [plan] if plan is not None else list(PLANS)
        own = [k for p in plans for k in cls.plan_keys[p]]
        return tuple(dict.fromkeys([*own, *cls.duration_keys, *cls.extra_keys]))


class EstimateCommand(_SpecCommand):
    """`estimate <model> <plan> ...` (or `compare ...`): price a spec."""

    verb: Literal["estimate"] = "estimate"
    spec: DeploySpec
    extra_keys: ClassVar[tuple[str, ...]] = (
        "start",
        "cancel_after",
        "hours_per_day",
        "auto_renew",
        "suffix",
        "name",
        "context",
        "max_input",
    )


class DeployCommand(_SpecCommand):
    """`deploy <model> <plan> ...`: request a new deployment."""

    verb: Literal["deploy"] = "deploy"
    spec: DeploySpec
    reason: str | None = None
    extra_keys: ClassVar[tuple[str, ...]] = (
        "auto_renew",
        "suffix",
        "name",
        "reason",
        "context",
        "max_input",
        "tags",
    )


class ListCommand(CommandModel):
    """`list [all]`: deployments, deleted ones too with `all`."""

    verb: Literal["list"] = "list"
    include_deleted: bool = False


class StatusCommand(CommandModel):
    """`status <deployment>`: one deployment in detail."""

    verb: Literal["status"] = "status"
    deployment: str


class ScaleCommand(CommandModel):
    """`scale <deployment> units=<n>` or `in=... out=...`: request a new capacity."""

    verb: Literal["scale"] = "scale"
    spec: ScaleSpec
    reason: str | None = None
    # `from=`/`until=`: only for that window, then back (a schedule request, docs/schedules.md)
    window_from: datetime | None = None
    window_until: datetime | None = None
    keys: ClassVar[tuple[str, ...]] = (
        "units",
        "in",
        "out",
        "thinking_out",
        "from",
        "until",
        "reason",
    )

    def window(self) -> ScheduleSpec | None:
        """The one-off window this scale asks for, as a schedule; None for a plain scale."""
        if self.window_from is None or self.window_until is None:
            return None
        s = self.spec
        level = ScheduleLevel(
            units=s.units,
            input_tpm=s.input_tpm,
            output_tpm=s.output_tpm,
            thinking_output_tpm=s.thinking_output_tpm,
        )
        return ScheduleSpec(
            deployment=s.deployment,
            kind="window",
            level=level,
            window_from=self.window_from,
            window_until=self.window_until,
        )


class ScheduleCommand(CommandModel):
    """`schedule <deployment> <capacity> at="<days> <HH:MM>" […]`: request capacity on a weekly
    Beijing calendar, approved once for its maximum cost."""

    verb: Literal["schedule"] = "schedule"
    spec: ScheduleSpec
    reason: str | None = None
    keys: ClassVar[tuple[str, ...]] = ("units", "in", "out", "thinking_out", "at", "reason")


class UnscheduleCommand(CommandModel):
    """`unschedule <schedule-id> [reason=…]`: end a schedule; the capacity stays as it is."""

    verb: Literal["unschedule"] = "unschedule"
    schedule_id: str
    reason: str | None = None
    keys: ClassVar[tuple[str, ...]] = ("reason",)


class SchedulesCommand(CommandModel):
    """`schedules`: every schedule, its state and its next change."""

    verb: Literal["schedules"] = "schedules"


class RenewCommand(CommandModel):
    """`renew <deployment> days=<n> [auto_renew=on|off]`: request more prepaid PTU days."""

    verb: Literal["renew"] = "renew"
    spec: RenewSpec
    reason: str | None = None
    keys: ClassVar[tuple[str, ...]] = ("days", "auto_renew", "reason")


class LimitsCommand(CommandModel):
    """`limits <deployment> rpm=... tpm=...`: request new MU rate limits."""

    verb: Literal["limits"] = "limits"
    spec: LimitsSpec
    reason: str | None = None
    keys: ClassVar[tuple[str, ...]] = ("rpm", "tpm", "reason")


class UnpublishCommand(CommandModel):
    """`unpublish <deployment> [confirm]`: request removal of a deployment."""

    verb: Literal["unpublish"] = "unpublish"
    deployment: str
    reason: str | None = None
    confirm: bool = False
    keys: ClassVar[tuple[str, ...]] = ("reason",)


class CostCommand(CommandModel):
    """`cost [<deployment>|all] [forecast] [period=...]`: spend so far (target None means all);
    with `forecast`, also what is still to come this period."""

    verb: Literal["cost"] = "cost"
    target: str | None = None
    period: str = "month"
    forecast: bool = False
    keys: ClassVar[tuple[str, ...]] = ("period",)


class BudgetCommand(CommandModel):
    """`budget`: the budget view; `budget set name=… amount=… …`: add or replace one (admins)."""

    verb: Literal["budget"] = "budget"
    action: Literal["show", "set"] = "show"
    name: str | None = None
    amount: DecimalStr | None = None
    scope: str | None = None
    period: str | None = None
    hard: bool | None = None
    thresholds: list[int] | None = None
    keys: ClassVar[tuple[str, ...]] = ("name", "amount", "scope", "period", "hard", "thresholds")


class AlertsCommand(CommandModel):
    """`alerts`: evaluate the alert rules once, raise what is due, list this month's alerts."""

    verb: Literal["alerts"] = "alerts"


class ApprovalsCommand(CommandModel):
    """`approvals`: requests waiting for a decision."""

    verb: Literal["approvals"] = "approvals"


class ApproveCommand(CommandModel):
    """`approve <id>`: approve a request."""

    verb: Literal["approve"] = "approve"
    request_id: str


class RejectCommand(CommandModel):
    """`reject <id> [reason=...]`: reject a request."""

    verb: Literal["reject"] = "reject"
    request_id: str
    reason: str | None = None
    keys: ClassVar[tuple[str, ...]] = ("reason",)


class PlanCommand(CommandModel):
    """`plan <model> [trace=…|deployment=…|prometheus] … [apply [option=…]]`: what to buy."""

    verb: Literal["plan"] = "plan"
    spec: PlanSpec
    apply: bool = False
    option: OptionName | None = None
    reason: str | None = None
    keys: ClassVar[tuple[str, ...]] = (
        "trace",
        "deployment",
        "period",
        "mode",
        "coverage",
        "options",
        "option",
        "reason",
    )


class WithdrawCommand(CommandModel):
    """`withdraw <id>`: the requester takes back their own pending request."""

    verb: Literal["withdraw"] = "withdraw"
    request_id: str


Command = Annotated[
    HelpCommand
    | ModelsCommand
    | EstimateCommand
    | DeployCommand
    | ListCommand
    | StatusCommand
    | ScaleCommand
    | ScheduleCommand
    | SchedulesCommand
    | UnscheduleCommand
    | RenewCommand
    | LimitsCommand
    | UnpublishCommand
    | CostCommand
    | BudgetCommand
    | AlertsCommand
    | ApprovalsCommand
    | ApproveCommand
    | RejectCommand
    | PlanCommand
    | WithdrawCommand,
    Field(discriminator="verb"),
]
"""Any built-in command (plugins' verbs are `CommandModel` subclasses looked up by verb)."""

command_adapter: TypeAdapter[Command] = TypeAdapter(Command)
"""Validates and serialises any built-in command (e.g. `command_adapter.validate_json(text)`)."""
