"""Readable `/deck` answers for spend, the approval queue, decisions and requests.

`deck.run` returns a typed result for every verb; most answers are its text in a code block
(the registry's fallback). These get more shape: spend as an aligned table (amounts
right-aligned, in dollars, rounded half-up to cents from the exact decimals) with the total
outside the block; the queue as one section per request with its Approve / Reject buttons; a
decision as the deck's own outcome message, the request's state and whether its card was
updated; a new request as where its card is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from modeldeck.domain import DecisionOutcome, RequestRecord, RequestStatus
from modeldeck.money import format_amount
from modeldeck.render import line_amount, line_detail, line_kind, request_text
from modeldeck.results import CostReport, cost_scope
from modeldeck_slack.blocks import (
    ACTIONS_BLOCK_ID,
    MAX_MESSAGE_BLOCKS,
    SECTION_LIMIT,
    Card,
    buttons,
    clip,
    commitment,
    escape,
    note_card,
    text_card,
    when,
    who,
)
from modeldeck_slack.context import SlackOrigin
from modeldeck_slack.paging import share_button

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


def period_words(name: str) -> str:
    """`month` -> `this month`; a month, a day or a duration is shown as given."""
    return PERIOD_WORDS.get(name, name)


def cost_table(report: CostReport) -> str:
    """deployment | item | amount | detail, amounts right-aligned (long details wrap last)."""
    currency = report.currency
    rows: list[tuple[str, str, str, str]] = []
    for dep in report.deployments:
        name = dep.deployed_model or dep.id
        if not dep.lines:
            rows.append(
                (name, "-", format_amount(Decimal(0), currency), "nothing billed in this period")
            )
        for line in dep.lines:
            rows.append(
                (
                    name,
                    line_kind(line.kind),
                    line_amount(line, currency),
                    line_detail(line),
                )
            )
        if len(dep.lines) > 1:
            rows.append(("", "subtotal", format_amount(dep.total, currency), name))
    head = ("deployment", "item", "amount", "detail")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]

    def fmt(row: tuple[str, str, str, str]) -> str:
        return (
            f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  "
            f"{row[2].rjust(widths[2])}  {row[3]}"
        ).rstrip()

    rule = ("-" * widths[0], "-" * widths[1], "-" * widths[2], "------")
    return "\n".join(fmt(r) for r in [head, rule, *rows])


def cost_card(report: CostReport, command: str | None = None) -> Card:
    """`/deck cost`: period and scope, the table in a code block, the total in bold, and
    Share to channel (for the command that asked)."""
    target = None if cost_scope(report) == "all deployments" else report.target
    scope = f"`{escape(target)}`" if target else "all deployments"
    words = period_words(report.period.name)
    total = format_amount(report.total, report.currency)
    period = report.period
    head = f"*Spend {escape(words)}*, {scope}\n{when(period.start)} → {when(period.end)}"
    blocks: list[Block] = [SectionBlock(text=_mrkdwn(head))]
    share = share_button(command)
    if report.deployments:
        table = text_card(cost_table(report)).blocks
        room = MAX_MESSAGE_BLOCKS - 3 - len(share)  # the heading, total, footnote, Share
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
    blocks += share
    text = clip(f"Spend {words}, {target or 'all deployments'}: {total}", 3000)
    return Card(text=text, blocks=blocks)


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
        got, needed = request.approvals_so_far, request.approvals_required
        left = request.approvals_remaining
        cost = f" · {commitment(request)}" if request.estimate is not None else ""
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


def request_answer(request: RequestRecord, origin: SlackOrigin | None) -> Card:
    """What a new request became, and where its card is (or why it could not be posted)."""
    origin = origin or SlackOrigin(channel=None, user="")
    where = origin.posted.get(request.id)
    posted_before = request.refs.get("slack_channel"), request.refs.get("slack_ts")
    if where is None and posted_before[0] and posted_before[1]:  # a replay, a withdraw
        where = (str(posted_before[0]), str(posted_before[1]))
    policy = escape(request.policy.rule)
    rid = f"`{escape(request.id)}`"
    if request.status == RequestStatus.EXECUTED:
        dep = f" Deployment `{escape(request.deployment_id)}`." if request.deployment_id else ""
        head = f":white_check_mark: {rid} was approved by policy ({policy}) and executed.{dep}"
    elif request.status == RequestStatus.FAILED:
        head = f":warning: {rid} was approved but failed: {escape(request.error or '')}"
    elif request.status == RequestStatus.PENDING:
        head = f":hourglass_flowing_sand: {rid} is waiting for approval ({policy})."
    elif request.status == RequestStatus.WITHDRAWN:
        head = f":leftwards_arrow_with_hook: {rid} is withdrawn: nobody can approve it now."
    elif request.status == RequestStatus.STALE:
        cause = escape(request.error or "its deployment changed")
        head = f":no_entry_sign: {rid} is stale and can no longer be approved: {cause}"
    else:
        head = f"{rid} is {escape(request.status.value)}."
    if where is not None:
        place = "here" if where[0] == origin.channel else f"in <#{where[0]}>"
        link = origin.links.get(request.id)
        if link and where[0] != origin.channel:
            place += f" (<{link}|open it>)"
        tail = f" Its card is posted {place}; it updates when someone decides."
    else:
        card_error = origin.card_errors.get(request.id)
        reason = f" ({escape(card_error)})" if card_error else ""
        tail = (
            f" I could not post its card{reason}: invite the bot to this channel or set "
            f"MODELDECK_SLACK__CHANNEL. Approvers can run `/deck approve {escape(request.id)}`."
        )
    if request.estimate is not None:
        head += f" Commits: {commitment(request)}."
    return note_card(head + tail)
