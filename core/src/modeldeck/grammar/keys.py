"""The key=value options the grammar knows: how each is written and what it means.

Which verb takes which key is not written here: each command model says so (`allowed_keys`),
and help, errors and CLI completion ask the models (see `modeldeck.grammar.verbs.key_places`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KEYS", "KeyInfo", "canonical_key"]


@dataclass(frozen=True)
class KeyInfo:
    """One key=value option: its value syntax, what it means, and other names it answers to."""

    name: str
    value: str
    description: str
    aliases: tuple[str, ...] = ()


KEYS: dict[str, KeyInfo] = {
    k.name: k
    for k in (
        KeyInfo("in", "<TPM>", "input tokens per minute to reserve", ("input_tpm",)),
        KeyInfo("out", "<TPM>", "output tokens per minute to reserve", ("output_tpm",)),
        KeyInfo("thinking_out", "<TPM>", "thinking output tokens per minute to reserve",
                ("thinking_output_tpm",)),
        KeyInfo("mode", "instruct|thinking", "how the model runs (default instruct)"),
        KeyInfo("billing", "hourly|upfront (ptu), hourly|monthly (mu)",
                "billing method (default hourly)"),
        KeyInfo("units", "<n>", "number of model units"),
        KeyInfo("rpm_limit", "<n>", "requests per minute limit", ("rpm",)),
        KeyInfo("tpm_limit", "<n>", "tokens per minute limit", ("tpm",)),
        KeyInfo("rpm", "<n>", "new requests per minute limit", ("rpm_limit",)),
        KeyInfo("tpm", "<n>", "new tokens per minute limit", ("tpm_limit",)),
        KeyInfo("context", "<tokens>", "context window to run with (at most the model's)",
                ("max_context_length",)),
        KeyInfo("max_input", "<tokens>", "largest request input you plan to send (checked "
                "against the model's max input)", ("max_input_tokens",)),
        KeyInfo("hours", "<h>", "how long it runs, in hours (decimals allowed)"),
        KeyInfo("days", "<n>", "how many days (upfront: prepaid days)"),
        KeyInfo("months", "<n>", "how many months (mu monthly)"),
        KeyInfo("duration", "<duration>", "how long it runs, e.g. 90m30s, 1h30m, 7d"),
        KeyInfo("start", "<ISO time>", "when it starts (no offset = Beijing time)"),
        KeyInfo("cancel_after", "<duration>", "price cancelling an upfront/monthly order after "
                "this long"),
        KeyInfo("hours_per_day", "<h>", "hours a day it runs (for plan comparisons)"),
        KeyInfo("auto_renew", "yes|no", "renew an upfront or monthly order before it expires",
                ("auto_renewal",)),
        KeyInfo("suffix", "<text>", "deployment suffix, at most 8 letters, digits or '-'"),
        KeyInfo("name", "<text>", "display name of the deployment (budget set: the budget's)"),
        KeyInfo("reason", "\"<text>\"", "why, shown to approvers"),
        KeyInfo("tags", "<key>=<value>[,<key>=<value>…]",
                "labels on the deployment that budgets' tag: scopes match, e.g. tags=team=search",
                ("tag",)),
        KeyInfo("amount", "<USD>", "the budget's amount in USD per period, e.g. 5000 or 1200.50"),
        KeyInfo("scope", "workspace|deployment:<ref>|tag:<key>=<value>",
                "what the budget covers (default workspace)"),
        KeyInfo("hard", "on|off", "a hard budget needs an admin to approve requests that "
                "would cross it (default off)"),
        KeyInfo("thresholds", "<pct>[,<pct>…]", "alert thresholds in percent (default 50,80,100)"),
        KeyInfo("period",
                "today|week|month|last-month|year|all|YYYY-MM|YYYY-MM-DD|<duration>|<from>..<to>",
                "which spend to show (default month; a duration means the last 7d, 24h…)"),
        KeyInfo("trace", "<file.csv>", "a usage trace to plan from (minute,input_tokens,"
                "output_tokens[,thinking_output_tokens])"),
        KeyInfo("deployment", "<deployment>", "plan from this deployment's metered usage (and "
                "compare with what it runs today)"),
        KeyInfo("coverage", "<fraction>|<n>%", "smallest share of the tokens the reservation "
                "must serve, each direction"),
        KeyInfo("options", "payg,hourly,upfront,schedule,mu", "which options to price"),
        KeyInfo("option", "payg|hourly|upfront|schedule|mu", "the option `apply` requests "
                "(default: the recommended one)"),
        KeyInfo("at", "\"<days> <HH:MM>\"", "when the capacity written before it starts, every "
                "week (Beijing time; days: mon-fri, sat,sun, daily…), e.g. at=\"mon-fri 09:00\""),
        KeyInfo("from", "<ISO time>", "when a one-off capacity window starts (no offset = "
                "Beijing time)"),
        KeyInfo("until", "<ISO time>", "when the window ends and the capacity goes back to "
                "what it was"),
    )
}  # fmt: skip


def canonical_key(written: str, allowed: tuple[str, ...]) -> str | None:
    """The allowed key `written` names (itself or through an alias), or None."""
    key = written.lower().replace("-", "_")
    if key in allowed:
        return key
    return next((k for k in allowed if key in KEYS[k].aliases), None)
