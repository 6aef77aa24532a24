"""Readable `/deck` answers for spend, the approval queue and decisions, from the command's data.

`deck.run` returns text and JSON for every verb; most answers are its text in a code block. These
three get more shape: spend as an aligned table (amounts right-aligned, in dollars, rounded
half-up to cents from the exact decimal strings) with the total outside the block; the queue as
one section per request with its Approve / Reject buttons; a decision as the deck's own outcome
message, the request's state and whether its card was updated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from modeldeck.domain import DecisionOutcome, RequestRecord
from modeldeck.money import format_amount
from modeldeck.render import request_text
from modeldeck_slack.blocks import (
    ACTIONS_BLOCK_ID,
    MAX_MESSAGE_BLOCKS,
    SECTION_LIMIT,
    Card,
    buttons,
    clip,
    cost_phrase,
    escape,
    text_card,
    when,
    who,
)

QUEUE_SHOWN = 15  # two blocks each, well inside Slack's 50 per message
PERIOD_WORDS = {
    "today": "today",
    "yesterday": "yesterday",
    "week": "the last 7 days",
    "7d": "the last 7 days",
    "month": "this month",
    "last-month": "last month",
    "year": "this year",
    "all": "since the start",
}
KIND_WORDS = {
    "reserved": "reserved",
    "upfront_order": "upfront order",
    "refund": "refund",
    "overflow": "overflow",
}
OUTCOME_EMOJI = {
    "executed": ":white_check_mark:",
    "approved": ":white_check_mark:",
    "recorded": ":ballot_box_with_check:",
    "rejected": ":x:",
    "already_decided": ":information_source:",
    "failed": ":warning:",
}


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, SECTION_LIMIT))


def _money(value: Any, currency: str) -> str:
    if isinstance(value, float):  # never: the deck sends decimal strings
        raise TypeError("money must not be a float")
    return format_amount(Decimal(str(value)), currency)


def _stamp(text: Any) -> str:
    try:
        return when(datetime.fromisoformat(str(text)))
    except ValueError:
        return escape(str(text))


def period_words(name: str) -> str:
    """`month` -> `this month`; a month, a day or a duration is shown as given."""
    return PERIOD_WORDS.get(name, name)


def cost_table(data: Mapping[str, Any]) -> str:
    """deployment | item | amount | detail, amounts right-aligned (long details wrap last)."""
    currency = str(data.get("currency") or "USD")
    rows: list[tuple[str, str, str, str]] = []
    for dep in data.get("deployments") or []:
        name = str(dep.get("deployed_model") or dep.get("id") or "?")
        lines = list(dep.get("lines") or [])
        if not lines:
            rows.append((name, "-", _money(0, currency), "nothing billed in this period"))
        for line in lines:
            kind = str(line.get("kind") or "")
            rows.append(
                (
                    name,
                    KIND_WORDS.get(kind, kind),
                    _money(line.get("amount", "0"), str(line.get("currency") or currency)),
                    str(line.get("description") or ""),
                )
            )
        if len(lines) > 1:
            rows.append(("", "subtotal", _money(dep.get("total", "0"), currency), name))
    head = ("deployment", "item", "amount", "detail")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]

    def fmt(row: tuple[str, str, str, str]) -> str:
        return (
            f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  "
            f"{row[2].rjust(widths[2])}  {row[3]}"
        ).rstrip()

    rule = ("-" * widths[0], "-" * widths[1], "-" * widths[2], "------")
    return "\n".join(fmt(r) for r in [head, rule, *rows])


def cost_card(data: Mapping[str, Any], target: str | None = None) -> Card:
    """`/deck cost`: period and scope, the table in a code block, the total in bold."""
    currency = str(data.get("currency") or "USD")
    period = data.get("period") or {}
    scope = f"`{escape(target)}`" if target else "all deployments"
    words = period_words(str(period.get("name") or "month"))
    total = _money(data.get("total", "0"), currency)
    head = (
        f"*Spend {escape(words)}*, {scope}\n"
        f"{_stamp(period.get('start'))} → {_stamp(period.get('end'))}"
    )
    blocks: list[Block] = [SectionBlock(text=_mrkdwn(head))]
    if data.get("deployments"):
        table = text_card(cost_table(data)).blocks
        room = MAX_MESSAGE_BLOCKS - 3  # the heading, the total and the footnote
        if len(table) > room:
            cut = (
                "… table cut: too long for one message. Ask for one deployment or a shorter period."
            )
            table = [*table[: room - 1], SectionBlock(text=_mrkdwn(cut))]
        blocks.extend(table)
    else:
        blocks.append(SectionBlock(text=_mrkdwn("No deployments.")))
    blocks.append(SectionBlock(text=_mrkdwn(f"*Total: {total}*")))
    blocks.append(
        ContextBlock(
            elements=[
                _mrkdwn(
                    "Exact amounts rounded half-up to the cent; the total is rounded once "
                    "from the exact sum."
                )
            ]
        )
    )
    text = clip(f"Spend {words}, {target or 'all deployments'}: {total}", 3000)
    return Card(text=text, blocks=blocks)


def needs(request: RequestRecord) -> tuple[int, int]:
    """(approvals so far, approvals required), each approver once, never the requester."""
    got = {
        d.principal
        for d in request.decisions
        if d.verdict == "approve" and d.principal != request.requester
    }
    return len(got), max(1, request.policy.approvers_required)


def approvals_card(
    requests: Sequence[RequestRecord], people: Mapping[str, str] | None = None
) -> Card:
    """`/deck approvals`: each pending request with cost, requester, policy, what it needs."""
    if not requests:
        text = "Nothing is waiting for approval."
        return Card(text=text, blocks=[SectionBlock(text=_mrkdwn(text))])
    count = len(requests)
    blocks: list[Block] = [
        SectionBlock(
            text=_mrkdwn(f"*{count} request{'s' if count != 1 else ''} waiting for a decision*")
        )
    ]
    for request in requests[:QUEUE_SHOWN]:
        got, needed = needs(request)
        left = needed - got
        cost = f" · {cost_phrase(request.estimate)}" if request.estimate is not None else ""
        reason = f"\n>{escape(request.reason)}" if request.reason else ""
        body = (
            f"*{escape(request.summary)}*{cost}\n"
            f"Requested by {who(request.requester, people)} via {request.surface}, "
            f"{when(request.created_at)}{reason}\n"
            f"Policy: {escape(request.policy.rule)} · needs {left} more approval"
            f"{'s' if left != 1 else ''} ({got} of {needed})\n"
            f"`{escape(request.id)}` · expires {when(request.expires_at)} · "
            f"`/deck approve {escape(request.id)}`"
        )
        blocks.append(SectionBlock(text=_mrkdwn(body)))
        blocks.append(buttons(request, block_id=f"{ACTIONS_BLOCK_ID}:{request.id}"[:255]))
    if count > QUEUE_SHOWN:
        blocks.append(
            ContextBlock(
                elements=[_mrkdwn(f"… and {count - QUEUE_SHOWN} more: see the App Home tab.")]
            )
        )
    text = clip(
        f"{count} request(s) waiting: "
        + ", ".join(f"{r.id} ({r.summary})" for r in requests[:QUEUE_SHOWN]),
        3000,
    )
    return Card(text=escape(text), blocks=blocks)


def decision_card(
    outcome: DecisionOutcome,
    card_updated: bool = False,
    people: Mapping[str, str] | None = None,
) -> Card:
    """`/deck approve|reject`: the deck's outcome message, the votes, the request as it stands."""
    emoji = OUTCOME_EMOJI.get(outcome.outcome, ":information_source:")
    request = outcome.request
    head = f"{emoji} *{escape(outcome.message)}*"
    for d in request.decisions:
        verb = "approved" if d.verdict == "approve" else "rejected"
        why = f": {escape(d.reason)}" if d.reason else ""
        head += f"\n• {who(d.principal, people)} {verb} via {d.surface}, {when(d.at)}{why}"
    if card_updated:
        channel = request.refs.get("slack_channel") or ""
        where = f" in <#{channel}>" if channel.isalnum() else ""
        head += f"\nIts card{where} is updated."
    blocks: list[Block] = [SectionBlock(text=_mrkdwn(head))]
    blocks.extend(text_card(request_text(request)).blocks)
    return Card(text=clip(f"{emoji} {escape(outcome.message)}", 3000), blocks=blocks)
