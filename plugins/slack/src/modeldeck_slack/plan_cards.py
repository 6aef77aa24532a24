"""`/deck plan` and `/deck schedules` in Block Kit: fields, not code blocks.

A plan is the trace it was made from, a section per option (capacity, total = reserved +
overflow, the effective price per million tokens, savings) with its reasoning as context, then
the recommendation and why, today's cost, the sensitivity and notes, and Share to channel (not
on `apply`, which made a request). Schedules are a section each with the next change, paged.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from slack_sdk.models.blocks import (
    Block,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from modeldeck.money import format_amount
from modeldeck.planner.result import OptionResult, PlanResult
from modeldeck.results import CapacityPlanResult
from modeldeck.schedules.text import next_change_text
from modeldeck.schedules.views import ScheduleView
from modeldeck_slack.answers import request_fields
from modeldeck_slack.blocks import FIELD_LIMIT, Card, clip, escape, when
from modeldeck_slack.limits import SECTION_FIELDS, SECTION_TEXT
from modeldeck_slack.paging import context, mrkdwn, paged, share_button

SCHEDULES_PER_PAGE = 15
OPTION_WORDS = {
    "payg": "pay-as-you-go (no reservation)",
    "hourly": "PTU hourly, constant capacity",
    "upfront": "PTU upfront daily package, constant capacity",
    "schedule": "PTU hourly on a schedule (capacity per Beijing hour)",
    "mu": "model units, hourly",
}
NO_SCHEDULES = (
    'No schedules. Ask for one: `/deck schedule <deployment> <capacity> at="mon-fri 09:00" …`, '
    "or a window: `/deck scale <deployment> <capacity> from=… until=…`"
)


def _field(label: str, value: str) -> MarkdownTextObject:
    return mrkdwn(f"*{label}*\n{value}", FIELD_LIMIT)


def _amount(value: Decimal | None, currency: str) -> str:
    return "unknown" if value is None else format_amount(value, currency)


def capacity(opt: OptionResult) -> str:
    """What the option reserves, in words (the planner's own phrasing)."""
    if opt.option == "payg":
        return "no reservation"
    if opt.option == "mu":
        return f"{opt.units} unit(s) = {opt.input_tpm:,} in / {opt.output_tpm:,} out TPM"
    up_to = "up to " if opt.option == "schedule" else ""
    return f"{up_to}{opt.input_tpm or 0:,} in / {opt.output_tpm or 0:,} out TPM"


def _signed(saving: Decimal, currency: str) -> str:
    if saving > 0:
        return f"saves {format_amount(saving, currency)}"
    if saving < 0:
        return f"costs {format_amount(-saving, currency)} more"
    return "same cost"


def _option_blocks(opt: OptionResult, recommended: str | None) -> list[Block]:
    mark = ":star: " if opt.option == recommended else ""
    rank = f"{opt.rank}. " if opt.rank else ""
    head = f"{mark}*{rank}{escape(opt.option)}* · {OPTION_WORDS.get(opt.option, '')}"
    if not opt.available:
        return [SectionBlock(text=mrkdwn(f"{head}\nNot priced: {escape(opt.error or '')}"))]
    cur = opt.currency
    per_million = (
        format_amount(opt.effective_per_million, cur, exact=True)
        if opt.effective_per_million is not None
        else "unknown"
    )
    fields = [
        _field("Capacity", escape(capacity(opt))),
        _field("Total for the trace", f"*{_amount(opt.total, cur)}*"),
        _field("Reserved", _amount(opt.reserved, cur)),
        _field("Overflow", _amount(opt.overflow, cur)),
        _field("Effective price", f"{per_million} per million tokens"),
    ]
    compared = []
    if opt.saving_vs_payg is not None and opt.option != "payg":
        compared.append(f"vs pay-as-you-go: {_signed(opt.saving_vs_payg, cur)}")
    if opt.saving_vs_current is not None:
        compared.append(f"vs today: {_signed(opt.saving_vs_current, cur)}")
    if opt.meets_coverage is False:
        compared.append(":warning: does not meet the coverage asked for")
    if compared:
        fields.append(_field("Compared", "\n".join(compared)))
    if opt.schedule:
        busy = [h for h in opt.schedule if h.minutes]
        cells = ", ".join(
            f"{h.hour:02d}h {h.input_tpm // 1000}k/{h.output_tpm // 1000}k" for h in busy
        )
        fields.append(_field("Schedule (in/out TPM by Beijing hour)", clip(cells, 1900)))
    blocks: list[Block] = [SectionBlock(text=mrkdwn(head), fields=fields[:SECTION_FIELDS])]
    if opt.reasoning:
        blocks.append(context(clip(" ".join(escape(r) for r in opt.reasoning), SECTION_TEXT)))
    return blocks


def _recommendation(plan: PlanResult) -> str:
    if plan.recommended:
        best = plan.option(plan.recommended)
        why = "\n".join(f"• {escape(r)}" for r in best.reasoning)
        text = (
            f":star: *Recommended: {escape(plan.recommended)}* · {escape(capacity(best))}, "
            f"{_amount(best.total, best.currency)} for the trace"
        )
        return f"{text}\n{why}" if why else text
    if any(o.available for o in plan.options):
        return (
            f":warning: No option that meets coverage={plan.coverage} could be priced; see the "
            "reasons above."
        )
    return ":warning: No option could be priced for this trace; see the reasons above."


def plan_card(result: CapacityPlanResult, command: str | None = None) -> Card:
    """`plan`: the trace, each option as fields, the recommendation with its reasoning, today,
    the sensitivity, notes, the request `apply` made, and Share (when nothing was applied)."""
    plan = result.plan
    t = plan.trace
    cov = f", coverage {plan.coverage}" if plan.coverage is not None else ""
    title = f"Plan: {plan.model} ({plan.mode}{cov})"
    trace = (
        f"From the trace `{escape(t.source)}`: {t.minutes:,} minutes, {when(t.start)} → "
        f"{when(t.end)}; {t.input_tokens:,} input and {t.output_tokens:,} output tokens; peak "
        f"{t.peak_input_tpm:,} in / {t.peak_output_tpm:,} out TPM."
    )
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(title, 150))),
        SectionBlock(text=mrkdwn(trace)),
    ]
    for opt in plan.options:
        blocks += _option_blocks(opt, plan.recommended)
    blocks.append(SectionBlock(text=mrkdwn(_recommendation(plan)), block_id="modeldeck_plan_pick"))
    extra: list[str] = []
    if plan.current is not None:
        now = plan.current
        if now.available:
            extra.append(
                f"Today ({escape(now.billing)}, {escape(capacity(now))}): "
                f"{_amount(now.total, now.currency)} for the trace."
            )
        else:
            extra.append(f"Today's capacity could not be priced: {escape(now.error or '')}")
    if plan.sensitivity is not None:
        extra.append(escape(plan.sensitivity.text))
    if extra:
        blocks.append(SectionBlock(text=mrkdwn("\n".join(extra))))
    if plan.notes:
        blocks.append(context(clip(" · ".join(escape(n) for n in plan.notes), SECTION_TEXT)))
    if result.request is not None:
        blocks.append(request_fields(result.request))
    else:
        blocks += share_button(command)
    text = title
    if plan.recommended:
        best = plan.option(plan.recommended)
        text += f": {plan.recommended}, {_amount(best.total, best.currency)} for the trace"
    return Card(text=clip(text, SECTION_TEXT), blocks=blocks)


def _schedule_item(view: ScheduleView) -> list[Block]:
    head = (
        f"*{escape(view.deployment)}* · `{escape(view.id)}` · {escape(view.kind)} · "
        f"`{escape(view.state)}`\n{escape(view.summary)}"
    )
    nxt = escape(next_change_text(view.next_change)) if view.next_change else "none scheduled"
    fields = [_field("Next change", nxt)]
    if view.last_change_at is not None:
        fields.append(_field("Last change", when(view.last_change_at)))
    fields.append(_field("Approved as", f"`{escape(view.request_id)}`"))
    fields.append(_field("Active since", when(view.activated_at)))
    if view.paused_reason:
        fields.append(_field(":warning: Paused", escape(view.paused_reason)))
    return [SectionBlock(text=mrkdwn(head), fields=fields)]


def schedules_card(
    views: Sequence[ScheduleView], command: str | None = None, start: int = 0
) -> Card:
    """`schedules` (and `unschedule`): a section per schedule with its next change, paged."""
    if not views:
        return Card(text=NO_SCHEDULES, blocks=[SectionBlock(text=mrkdwn(NO_SCHEDULES))])
    active = sum(1 for v in views if v.state == "active")
    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"{len(views)} schedule(s) ({active} active)"))
    ]
    items = [_schedule_item(v) for v in views]
    text = f"{len(views)} schedule(s): " + ", ".join(f"{v.id} {v.deployment}" for v in views)
    return paged(
        escape(text),
        head,
        items,
        command=command,
        start=start,
        per_page=SCHEDULES_PER_PAGE,
        noun="schedules",
    )
