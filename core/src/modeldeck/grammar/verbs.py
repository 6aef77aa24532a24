"""The verb table: how each verb is written, what it does, examples, and its command model.

Built-in verbs are in `VERBS`; plugins add theirs through the `register_verbs` hook (a command
model, a handler and how to write it), collected once by `all_verbs()`. Which keys a verb takes
comes from its model, so help, errors and the CLI never list keys of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modeldeck.errors import ConfigError
from modeldeck.grammar.keys import KEYS, KeyInfo

if TYPE_CHECKING:
    from modeldeck.grammar.commands import CommandModel

__all__ = ["VERBS", "VerbHandler", "VerbInfo", "all_verbs", "key_places", "usage"]

VerbHandler = Callable[[Any, Any, Any], Any]
"""`handler(deck, command, actor) -> Result`: runs a plugin's verb (deck is a `DeckAPI`)."""


@dataclass(frozen=True)
class VerbInfo:
    """One verb: how to write it, what it does, examples that parse, and the model it parses to.

    `model_ref` is the model, or for a built-in verb the name of its class in
    `modeldeck.grammar.commands` (imported when first asked for, so `--help` builds no model);
    `positional` names the model fields filled by a plugin verb's plain words, in order;
    `handler` runs a plugin's verb (built-in verbs run in `modeldeck.commands`).
    """

    name: str
    usage: str
    description: str
    examples: tuple[str, ...]
    model_ref: type[CommandModel] | str = "CommandModel"
    positional: tuple[str, ...] = ()
    handler: VerbHandler | None = field(default=None, compare=False)

    @property
    def model(self) -> type[CommandModel]:
        """The command model this verb parses to."""
        ref = self.model_ref
        if isinstance(ref, str):
            from modeldeck.grammar import commands

            model: type[CommandModel] = getattr(commands, ref)
            return model
        return ref

    def allowed_keys(self, plan: str | None = None) -> tuple[str, ...]:
        """The keys this verb takes (for one plan, where that matters)."""
        return self.model.allowed_keys(plan)


MODEL_EXAMPLE = "qwen3-max-2025-09-23"
_MU_EG = "qwen3-32b"

VERBS: dict[str, VerbInfo] = {
    v.name: v
    for v in (
        VerbInfo(
            "help",
            "help [topic]",
            "Show the commands, or how to write one of them (topics: a command or 'syntax').",
            ("help", "help estimate", "help syntax"),
            "HelpCommand",
        ),
        VerbInfo(
            "models", "models", "List the models, modes, plans and prices.", ("models",),
            "ModelsCommand",
        ),
        VerbInfo(
            "estimate",
            "estimate <model> <ptu|mu> [key=value…] [compare]",
            "Price a deployment before asking for it; add 'compare' to compare plans.",
            (
                f"estimate {MODEL_EXAMPLE} ptu in=20k out=2k hours=10",
                f"estimate {MODEL_EXAMPLE} ptu in=20,000 out=2,000 billing=upfront days=7",
                f"estimate {_MU_EG} mu units=2 duration=90m30s",
                "estimate qwen3-vl-8b-instruct mu units=1 billing=monthly months=1",
                f"estimate {MODEL_EXAMPLE} ptu in=20k out=2k hours_per_day=14 days=30 compare",
            ),
            "EstimateCommand",
        ),
        VerbInfo(
            "compare",
            "compare <model> <ptu|mu> [key=value…]",
            "Compare the plans and billing methods for the same need (an estimate with 'compare').",
            (f"compare {MODEL_EXAMPLE} ptu in=20k out=2k hours_per_day=14 days=30",),
            "EstimateCommand",
        ),
        VerbInfo(
            "deploy",
            'deploy <model> <ptu|mu> [key=value…] [reason="…"]',
            "Ask for a new deployment; it runs once the approval policy is satisfied.",
            (
                f'deploy {MODEL_EXAMPLE} ptu in=20k out=2k reason="launch week"',
                f"deploy {_MU_EG} mu units=2 billing=monthly months=1 suffix=team1",
            ),
            "DeployCommand",
        ),
        VerbInfo(
            "list", "list [all]", "List deployments; 'all' includes deleted ones.",
            ("list", "list all"), "ListCommand",
        ),
        VerbInfo(
            "status",
            "status <deployment>",
            "Show one deployment: status, capacity, billing and cost so far.",
            ("status my-deployment",),
            "StatusCommand",
        ),
        VerbInfo(
            "scale",
            'scale <deployment> units=<n> | in=<TPM> out=<TPM> [from=<ISO> until=<ISO>] '
            '[reason="…"]',
            "Ask for a new absolute capacity: units for mu, input/output TPM for ptu; with "
            "from=/until= only for that window (Beijing time), then back.",
            (
                "scale my-mu-deployment units=3",
                'scale my-ptu-deployment in=40k out=4k reason="peak"',
                'scale my-mu-deployment units=8 from=2027-11-11T00:00 until=2027-11-12T00:00 '
                'reason="sales promotion"',
            ),
            "ScaleCommand",
        ),
        VerbInfo(
            "renew",
            'renew <deployment> days=<n> [auto_renew=on|off] [reason="…"]',
            "Ask to extend an upfront PTU order by n days (priced at today's daily price).",
            ("renew my-ptu-deployment days=30", "renew my-ptu-deployment days=7 auto_renew=on"),
            "RenewCommand",
        ),
        VerbInfo(
            "limits",
            'limits <deployment> rpm=<n> tpm=<n> [reason="…"]',
            "Ask for new rate limits on a mu deployment (requests and tokens per minute).",
            ("limits my-mu-deployment rpm=600 tpm=100k",),
            "LimitsCommand",
        ),
        VerbInfo(
            "unpublish",
            'unpublish <deployment> [confirm] [reason="…"]',
            "Ask to remove a deployment; 'confirm' says you mean it.",
            ('unpublish my-deployment confirm reason="project over"',),
            "UnpublishCommand",
        ),
        VerbInfo(
            "cost",
            "cost [<deployment>|all] [forecast] [period=…]",
            "Show spend for one deployment or all of them over a period (default: this month); "
            "'forecast' adds the reserved spend and overflow still to come.",
            (
                "cost",
                "cost my-deployment period=7d",
                "cost all period=last-month",
                "cost all forecast",
            ),
            "CostCommand",
        ),
        VerbInfo(
            "budget",
            "budget | budget set name=<budget> amount=<USD> [scope=…] [period=…] [hard=on|off]",
            "Show each budget's spend, forecast, thresholds and status; admins add or change one "
            "with 'budget set'.",
            (
                "budget",
                "budget set name=search amount=5000 scope=tag:team=search hard=on",
            ),
            "BudgetCommand",
        ),
        VerbInfo(
            "alerts",
            "alerts",
            "Evaluate the alert rules, raise what is due (each alert once), list this month's.",
            ("alerts",),
            "AlertsCommand",
        ),
        VerbInfo(
            "approvals", "approvals", "List requests waiting for a decision.", ("approvals",),
            "ApprovalsCommand",
        ),
        VerbInfo(
            "approve", "approve <id>", "Approve a pending request.", ("approve r-12",),
            "ApproveCommand",
        ),
        VerbInfo(
            "reject",
            'reject <id> [reason="…"]',
            "Reject a pending request, saying why.",
            ('reject r-12 reason="too expensive"',),
            "RejectCommand",
        ),
        VerbInfo(
            "plan",
            "plan <model> [trace=<file>|deployment=<ref>|prometheus] [period=…] [mode=…] "
            "[coverage=<fraction>] [options=…] [apply [option=…]]",
            "Price a usage trace under every way of buying capacity and recommend the cheapest; "
            "'apply' requests the chosen option.",
            (
                f"plan {MODEL_EXAMPLE} trace=usage.csv coverage=0.95",
                f"plan {MODEL_EXAMPLE} deployment=my-deployment period=7d",
                f"plan {MODEL_EXAMPLE} prometheus period=30d options=hourly,upfront",
                f"plan {MODEL_EXAMPLE} deployment=my-deployment coverage=0.9 apply option=hourly",
            ),
            "PlanCommand",
        ),
        VerbInfo(
            "schedule",
            'schedule <deployment> <capacity> at="<days> <HH:MM>" [<capacity> at="…"]… '
            '[reason="…"]',
            "Ask for capacity on a weekly Beijing calendar: each at= starts the capacity written "
            "before it; approved once for its maximum cost, run by the reconciler.",
            (
                'schedule my-deployment in=40000 out=4000 at="mon-fri 09:00" in=10000 out=1000 '
                'at="mon-fri 19:00"',
                'schedule my-mu-deployment units=4 at="weekdays 08:30" units=1 at="daily 20:00" '
                'reason="office hours"',
            ),
            "ScheduleCommand",
        ),
        VerbInfo(
            "schedules", "schedules",
            "List the capacity schedules: state, next change, why one is paused.",
            ("schedules",), "SchedulesCommand",
        ),
        VerbInfo(
            "unschedule", 'unschedule <schedule-id> [reason="…"]',
            "End a schedule (active or paused); the deployment keeps the capacity it has.",
            ('unschedule sch_12 reason="promotion over"',), "UnscheduleCommand",
        ),
        VerbInfo(
            "withdraw", "withdraw <id>", "Take back your own pending request.", ("withdraw r-12",),
            "WithdrawCommand",
        ),
    )
}  # fmt: skip

_lock = threading.Lock()
_plugin_verbs: tuple[object, dict[str, VerbInfo]] | None = None


def _register_into(found: dict[str, VerbInfo]) -> Callable[..., None]:
    def register(
        name: str,
        model: type[CommandModel],
        handler: VerbHandler,
        *,
        usage: str | None = None,
        description: str = "",
        examples: Sequence[str] = (),
        positional: Sequence[str] = (),
        keys: Sequence[KeyInfo] = (),
    ) -> None:
        verb = name.strip().lower()
        if not verb or verb in VERBS or verb in found:
            raise ConfigError(f"A plugin registers the verb {name!r}, which is already taken.")
        from modeldeck.grammar.commands import CommandModel

        if not (isinstance(model, type) and issubclass(model, CommandModel)):
            raise ConfigError(f"The verb {name!r} needs a CommandModel subclass as its model.")
        for info in keys:
            if info.name in KEYS and KEYS[info.name] != info:
                raise ConfigError(f"The verb {name!r} redefines the key {info.name!r}.")
            KEYS[info.name] = info
        unknown = [k for k in model.allowed_keys() if k not in KEYS]
        if unknown:
            raise ConfigError(
                f"The verb {name!r} takes keys nobody describes: {', '.join(unknown)}.",
                hint="Pass keys=[KeyInfo(...)] to register().",
            )
        found[verb] = VerbInfo(
            verb,
            usage or verb,
            description or (model.__doc__ or "").strip().splitlines()[0],
            tuple(examples),
            model,
            tuple(positional),
            handler,
        )

    return register


def plugin_verbs() -> dict[str, VerbInfo]:
    """Verbs added by plugins through `register_verbs`, collected once per plugin manager."""
    global _plugin_verbs
    from modeldeck import plugins

    manager = plugins.get_plugin_manager()
    cached = _plugin_verbs
    if cached is not None and cached[0] is manager:
        return cached[1]
    with _lock:
        if _plugin_verbs is None or _plugin_verbs[0] is not manager:
            found: dict[str, VerbInfo] = {}
            manager.hook.register_verbs(register=_register_into(found))
            _plugin_verbs = (manager, found)
        return _plugin_verbs[1]


def reset_plugin_verbs() -> None:
    """Forget the plugins' verbs (tests that register a plugin on the current manager)."""
    global _plugin_verbs
    with _lock:
        _plugin_verbs = None


def all_verbs() -> dict[str, VerbInfo]:
    """Built-in verbs, then those plugins add."""
    return {**VERBS, **plugin_verbs()}


def usage(verb: str) -> str:
    """`Usage: …, e.g. …` for one verb (the first example)."""
    info = all_verbs()[verb]
    example = f", e.g. {info.examples[0]}" if info.examples else ""
    return f"Usage: {info.usage}{example}"


def key_places(key: str) -> str:
    """Where a key applies, read from the command models: `ptu estimate, deploy; scale`."""
    from modeldeck.grammar.commands import PLANS, _SpecCommand

    places: list[str] = []
    seen: set[type[CommandModel]] = set()
    for info in all_verbs().values():
        if info.model in seen:
            continue
        seen.add(info.model)
        if issubclass(info.model, _SpecCommand):
            plans = [p for p in PLANS if key in info.allowed_keys(p)]
            if plans:
                label = "" if len(plans) == len(PLANS) else f"{plans[0]} "
                places.append(f"{label}{info.name}")
        elif key in info.allowed_keys():
            places.append(info.name)
    return ", ".join(places) or "no command"
