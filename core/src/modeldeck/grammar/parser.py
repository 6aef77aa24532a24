"""Parsing command text into a typed command, once, where it was typed.

`parse("estimate qwen3-max-2025-09-23 ptu in=20k out=2k hours=10")` gives the same
`EstimateCommand` on every surface, so the same words do the same thing everywhere. Bad input
raises `GrammarError` with one paragraph saying what was wrong and what is allowed; the keys
each verb allows are asked of its command model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from modeldeck.domain import DeploySpec, LimitsSpec, RenewSpec, ScaleSpec
from modeldeck.errors import GrammarError
from modeldeck.grammar.commands import (
    PLANS,
    AlertsCommand,
    ApprovalsCommand,
    ApproveCommand,
    BudgetCommand,
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
)
from modeldeck.grammar.help import help_topic
from modeldeck.grammar.keys import KEYS, canonical_key
from modeldeck.grammar.messages import did_you_mean, shown
from modeldeck.grammar.plan_parser import parse_plan
from modeldeck.grammar.schedule_parser import check_window, parse_schedule
from modeldeck.grammar.tokens import Token, join_argv, tokenize
from modeldeck.grammar.values import VALUE_PARSERS
from modeldeck.grammar.verbs import MODEL_EXAMPLE, VerbInfo, all_verbs, key_places, usage

__all__ = ["parse", "parse_argv"]

_BILLING: dict[str, tuple[str, ...]] = {"ptu": ("hourly", "upfront"), "mu": ("hourly", "monthly")}


def _plain_text(text: str, key: str) -> str:
    """A plugin key nobody gave a reader: the text, whitespace flattened."""
    return " ".join(text.split())


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
                    f"'{shown(token.text)}' is not understood: options are written key=value "
                    f"and words are plain. {usage(verb)}."
                )
            words.append(token.text)
            continue
        key = token.key.strip()
        if not key:
            raise GrammarError(
                f"'{shown(token.text)}' has no key before '=': write key=value, e.g. units=2. "
                f"{usage(verb)}."
            )
        if not token.value and index + 1 < len(tokens) and tokens[index + 1].key is None:
            raise GrammarError(
                f"{key}= has no value: write it without spaces, e.g. "
                f"{key}={shown(tokens[index + 1].text)}."
            )
        options.append((key, token.value))
    return _Args(verb, words, options)


def _options(args: _Args, allowed: Sequence[str], context: str) -> dict[str, Any]:
    """Check keys against `allowed` (aliases resolved, no repeats) and parse their values."""
    values: dict[str, Any] = {}
    written: dict[str, str] = {}
    for raw_key, raw_value in args.options:
        key = canonical_key(raw_key, tuple(allowed))
        if key is None:
            raise _bad_key(raw_key, raw_key.lower().replace("-", "_"), allowed, context)
        if key in values:
            again = "" if written[key] == raw_key else f" (as '{written[key]}' and '{raw_key}')"
            raise GrammarError(f"Key '{key}' is given twice{again}: give each key once.")
        if not raw_value.strip():
            raise GrammarError(
                f"{raw_key}= has no value: write e.g. {key}={KEYS[key].value.split('|')[0]}."
            )
        values[key] = VALUE_PARSERS.get(key, _plain_text)(raw_value, key)
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
            f"Key '{shown(raw_key)}' does not apply to {context}: "
            f"it is for {key_places(info.name)}.",
            hint=listed,
        )
    return GrammarError(
        f"Unknown key '{shown(raw_key)}' for {context}.",
        hint=listed + did_you_mean(key, allowed),
    )


def _no_more_words(args: _Args, taken: int, what: str) -> None:
    if len(args.words) > taken:
        extra = args.words[taken]
        takes_reason = "reason" in all_verbs()[args.verb].allowed_keys()
        tip = ' Put a reason in quotes: reason="…".' if takes_reason else ""
        raise GrammarError(f"Unexpected '{shown(extra)}' after {what}.{tip} {usage(args.verb)}.")


def _one_word(args: _Args, what: str) -> str:
    if not args.words:
        raise GrammarError(f"Expected {what} after '{args.verb}'. {usage(args.verb)}.")
    word = args.words[0]
    if not word.strip():
        raise GrammarError(f"The {what.split(' ', 1)[-1]} is empty. {usage(args.verb)}.")
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
        raise GrammarError(f"Expected a model after '{args.verb}'. {usage(args.verb)}.")
    model = words[0].strip().lower()
    if model in PLANS:
        raise GrammarError(f"Expected a model before the plan '{model}'. {usage(args.verb)}.")
    if not model or any(c.isspace() for c in model):
        raise GrammarError(
            f"'{shown(words[0])}' is not a model name: model names have no spaces, e.g. "
            f"{MODEL_EXAMPLE}. Type 'models' to see them."
        )
    if len(words) < 2:
        raise GrammarError(
            "Expected a plan after the model: ptu or mu.", hint=usage(args.verb) + "."
        )
    plan_word = words[1].strip().lower()
    if plan_word not in PLANS:
        raise GrammarError(
            f"'{shown(words[1])}' is not a plan: use ptu or mu after the model."
            + did_you_mean(plan_word, PLANS),
            hint=usage(args.verb) + ".",
        )
    plan: Literal["ptu", "mu"] = "ptu" if plan_word == "ptu" else "mu"
    _no_more_words(_Args(args.verb, words, args.options), 2, f"the plan '{plan}'")
    command_model = EstimateCommand if kind == "estimate" else DeployCommand
    allowed = command_model.allowed_keys(plan)
    context = f"a {plan} {'estimate' if kind == 'estimate' else 'deploy'}"
    values = _options(args, allowed, context)

    given = [k for k in command_model.duration_keys if k in values]
    if len(given) > 1:
        raise GrammarError(
            "Give only one duration: hours=, days=, months= or duration= "
            f"(got {' and '.join(k + '=' for k in given)})."
        )
    billing = values.get("billing", "hourly")
    if billing not in _BILLING[plan]:
        raise GrammarError(
            f"billing={shown(billing)} is not available for {plan}: use "
            f"{' or '.join(_BILLING[plan])}." + did_you_mean(billing, _BILLING[plan])
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
        tags=values.get("tags", {}),
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
    topic = help_topic(args.words[0])
    return HelpCommand(raw=raw, topic=topic)


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
            f"'{shown(args.words[0])}'. {usage('list')}."
        )
    _no_more_words(args, 1, "'list all'")
    return ListCommand(raw=raw, include_deleted=bool(args.words))


def _status(raw: str, args: _Args) -> StatusCommand:
    deployment = _one_word(args, "a deployment")
    _options(args, (), "'status'")
    _no_more_words(args, 1, "the deployment")
    return StatusCommand(raw=raw, deployment=deployment)


def _renew(raw: str, args: _Args) -> RenewCommand:
    deployment = _one_word(args, "a deployment")
    _no_more_words(args, 1, "the deployment")
    values = _options(args, RenewCommand.keys, "'renew'")
    days = values.get("days")
    if not isinstance(days, int) or days < 1:
        raise GrammarError(
            "'renew' needs days=<n> (how many prepaid days to add, 1 or more). "
            + usage("renew")
            + "."
        )
    spec = RenewSpec(deployment=deployment, days=days, auto_renew=values.get("auto_renew"))
    return RenewCommand(raw=raw, spec=spec, reason=values.get("reason"))


def _scale(raw: str, args: _Args) -> ScaleCommand:
    deployment = _one_word(args, "a deployment")
    _no_more_words(args, 1, "the deployment")
    values = _options(args, ScaleCommand.keys, "'scale'")
    tpm = [k for k in ("in", "out", "thinking_out") if k in values]
    if "units" in values and tpm:
        raise GrammarError(
            "Scale with units= (mu) or with in=/out= (ptu), not both. " + usage("scale") + "."
        )
    if "units" not in values and not tpm:
        raise GrammarError(
            "'scale' needs the new capacity: units=<n> for mu, in=<TPM> and/or out=<TPM> for ptu. "
            + usage("scale")
            + "."
        )
    window = check_window(values) if "from" in values or "until" in values else (None, None)
    spec = ScaleSpec(
        deployment=deployment,
        units=values.get("units"),
        input_tpm=values.get("in"),
        output_tpm=values.get("out"),
        thinking_output_tpm=values.get("thinking_out"),
    )
    return ScaleCommand(
        raw=raw,
        spec=spec,
        reason=values.get("reason"),
        window_from=window[0],
        window_until=window[1],
    )


def _limits(raw: str, args: _Args) -> LimitsCommand:
    deployment = _one_word(args, "a deployment")
    _no_more_words(args, 1, "the deployment")
    values = _options(args, LimitsCommand.keys, "'limits'")
    if "rpm" not in values and "tpm" not in values:
        raise GrammarError(
            "'limits' needs rpm=<requests per minute> and/or tpm=<tokens per minute>. "
            + usage("limits")
            + "."
        )
    spec = LimitsSpec(
        deployment=deployment, rpm_limit=values.get("rpm"), tpm_limit=values.get("tpm")
    )
    return LimitsCommand(raw=raw, spec=spec, reason=values.get("reason"))


def _unpublish(raw: str, args: _Args) -> UnpublishCommand:
    deployment = _one_word(args, "a deployment")
    if deployment.lower() == "confirm":
        raise GrammarError(f"Expected a deployment before 'confirm'. {usage('unpublish')}.")
    rest = args.words[1:]
    confirm = False
    if rest and rest[0].lower() == "confirm":
        confirm = True
        rest = rest[1:]
    if rest:
        _no_more_words(args, len(args.words) - len(rest), "the deployment")
    values = _options(args, UnpublishCommand.keys, "'unpublish'")
    return UnpublishCommand(
        raw=raw, deployment=deployment, reason=values.get("reason"), confirm=confirm
    )


def _cost(raw: str, args: _Args) -> CostCommand:
    words = list(args.words)
    forecast = bool(words) and words[-1].strip().lower() == "forecast"
    if forecast:
        words = words[:-1]
    _no_more_words(_Args(args.verb, words, args.options), 1, "the deployment")
    values = _options(args, CostCommand.keys, "'cost'")
    target = words[0].strip() if words else None
    if target is not None and (not target or target.lower() == "all"):
        target = None
    return CostCommand(
        raw=raw, target=target, period=values.get("period", "month"), forecast=forecast
    )


def _budget(raw: str, args: _Args) -> BudgetCommand:
    if not args.words:
        _options(args, (), "'budget' (the view; to change one: budget set …)")
        return BudgetCommand(raw=raw)
    if args.words[0].strip().lower() != "set":
        raise GrammarError(
            f"'budget' takes only the word 'set', not '{shown(args.words[0])}'. {usage('budget')}."
        )
    _no_more_words(args, 1, "'budget set'")
    values = _options(args, BudgetCommand.keys, "'budget set'")
    if "name" not in values:
        raise GrammarError(
            "'budget set' needs name=<budget>, e.g. budget set name=llm-team amount=5000."
        )
    return BudgetCommand(
        raw=raw,
        action="set",
        name=values["name"],
        amount=values.get("amount"),
        scope=values.get("scope"),
        period=values.get("period"),
        hard=values.get("hard"),
        thresholds=values.get("thresholds"),
    )


def _alerts(raw: str, args: _Args) -> AlertsCommand:
    _options(args, (), "'alerts'")
    _no_more_words(args, 0, "'alerts'")
    return AlertsCommand(raw=raw)


def _approve(raw: str, args: _Args) -> ApproveCommand:
    request_id = _one_word(args, "a request id")
    _no_more_words(args, 1, "the request id")
    _options(args, (), "'approve'")
    return ApproveCommand(raw=raw, request_id=request_id)


def _reject(raw: str, args: _Args) -> RejectCommand:
    request_id = _one_word(args, "a request id")
    _no_more_words(args, 1, "the request id")
    values = _options(args, RejectCommand.keys, "'reject'")
    return RejectCommand(raw=raw, request_id=request_id, reason=values.get("reason"))


def _plan(raw: str, args: _Args) -> PlanCommand:
    values = _options(args, PlanCommand.keys, "'plan'")
    return parse_plan(raw, args.words, values, usage("plan"))


def _schedule(raw: str, args: _Args) -> ScheduleCommand:
    deployment = _one_word(args, "a deployment")
    _no_more_words(args, 1, "the deployment")
    return parse_schedule(raw, deployment, args.options, usage("schedule"))


def _schedules(raw: str, args: _Args) -> SchedulesCommand:
    _options(args, (), "'schedules'")
    _no_more_words(args, 0, "'schedules'")
    return SchedulesCommand(raw=raw)


def _unschedule(raw: str, args: _Args) -> UnscheduleCommand:
    schedule_id = _one_word(args, "a schedule id")
    _no_more_words(args, 1, "the schedule id")
    values = _options(args, UnscheduleCommand.keys, "'unschedule'")
    return UnscheduleCommand(raw=raw, schedule_id=schedule_id, reason=values.get("reason"))


def _withdraw(raw: str, args: _Args) -> WithdrawCommand:
    request_id = _one_word(args, "a request id")
    _no_more_words(args, 1, "the request id")
    _options(args, (), "'withdraw'")
    return WithdrawCommand(raw=raw, request_id=request_id)


_HANDLERS: dict[str, Callable[[str, _Args], Any]] = {
    "help": _help,
    "models": _models,
    "estimate": _estimate,
    "compare": _estimate,
    "deploy": _deploy,
    "list": _list,
    "status": _status,
    "scale": _scale,
    "renew": _renew,
    "limits": _limits,
    "unpublish": _unpublish,
    "cost": _cost,
    "budget": _budget,
    "alerts": _alerts,
    "approvals": _approvals,
    "approve": _approve,
    "reject": _reject,
    "plan": _plan,
    "schedule": _schedule,
    "schedules": _schedules,
    "unschedule": _unschedule,
    "withdraw": _withdraw,
}


def _plugin_verb(info: VerbInfo) -> Callable[[str, _Args], CommandModel]:
    """A plugin verb's words fill its `positional` fields in order; its keys are validated."""

    def handler(raw: str, args: _Args) -> CommandModel:
        _no_more_words(args, len(info.positional), "the " + (info.positional or ("verb",))[-1])
        values = _options(args, info.allowed_keys(), f"'{info.name}'")
        fields: dict[str, Any] = dict(zip(info.positional, args.words, strict=False))
        fields.update(values)
        try:
            return info.model(raw=raw, verb=info.name, **fields)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or info.name
            raise GrammarError(f"{where}: {problem['msg']}. {usage(info.name)}.") from None

    return handler


def _parse_tokens(raw: str, tokens: list[Token]) -> CommandModel:
    if tokens and tokens[0].key is None and tokens[0].text.lower() in {"/deck", "deck"}:
        tokens = tokens[1:]
    if not tokens:
        return HelpCommand(raw=raw)
    verbs = all_verbs()
    first = tokens[0]
    if first.key is not None:
        raise GrammarError(
            f"Expected a command first, not '{shown(first.text)}'. "
            f"Commands: {', '.join(verbs)}. Type 'help' for more."
        )
    verb = first.text.strip().lower()
    handler = _HANDLERS.get(verb) or (_plugin_verb(verbs[verb]) if verb in verbs else None)
    if handler is None:
        raise GrammarError(
            f"Unknown command '{shown(first.text)}'.{did_you_mean(verb, list(verbs))}",
            hint=f"Commands: {', '.join(verbs)}. Type 'help' for more.",
        )
    return handler(raw, _split(verb, tokens[1:]))


def parse(text: str) -> CommandModel:
    """Parse one command of the grammar; GrammarError (one paragraph) for anything else."""
    if not isinstance(text, str):
        raise GrammarError(f"A command must be text, not {type(text).__name__}.")
    try:
        return _parse_tokens(text, tokenize(text))
    except GrammarError:
        raise
    except (ValidationError, ValueError, ArithmeticError) as exc:  # a gap in the checks above
        raise GrammarError(
            f"Could not understand '{shown(text)}'. Type 'help' for the commands."
        ) from exc


def parse_argv(argv: Sequence[str]) -> CommandModel:
    """Parse CLI arguments (already split by the shell) as one command."""
    return parse(join_argv(argv))
