"""Block Kit messages the bot sends, built only from `slack_sdk.models.blocks` classes.

Slack rejects a whole message for one over-long text, so everything user-supplied is escaped
(no `<!channel>` injection) and clipped to Slack's limits here, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from modeldeck.domain import (
    DeploymentRecord,
    DeploySpec,
    Estimate,
    RequestRecord,
    RequestStatus,
    capacity_text,
)
from modeldeck.money import format_amount
from modeldeck.results import Result
from modeldeck.timeutil import to_beijing

APPROVE_ACTION = "modeldeck_approve"
REJECT_ACTION = "modeldeck_reject"
WITHDRAW_ACTION = "modeldeck_withdraw"  # on the card; only its requester may use it
ACTIONS_BLOCK_ID = "modeldeck_request_actions"
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
HEADER_LIMIT = 150
MAX_MESSAGE_BLOCKS = 50

STATUS_LABELS: dict[str, str] = {
    RequestStatus.PENDING: ":hourglass_flowing_sand: Waiting for approval",
    RequestStatus.APPROVED: ":white_check_mark: Approved",
    RequestStatus.EXECUTING: ":rocket: Approved, executing",
    RequestStatus.EXECUTED: ":white_check_mark: Approved and done",
    RequestStatus.REJECTED: ":x: Rejected",
    RequestStatus.FAILED: ":warning: Failed",
    RequestStatus.EXPIRED: ":hourglass: Expired",
    RequestStatus.STALE: ":no_entry_sign: Stale: no longer approvable",
    RequestStatus.WITHDRAWN: ":leftwards_arrow_with_hook: Withdrawn by the requester",
}


@dataclass(frozen=True)
class Card:
    """A message: fallback text (notifications, screen readers) plus blocks."""

    text: str
    blocks: list[Block]

    def block_dicts(self) -> list[dict[str, Any]]:
        """Serialise (and so validate: slack_sdk raises on invalid blocks)."""
        return [block.to_dict() for block in self.blocks]


def escape(text: str) -> str:
    """Escape Slack's control characters so user text cannot mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(value: datetime | None) -> str:
    """A time as people here read it: Beijing wall clock."""
    if value is None:
        return "—"
    return to_beijing(value).strftime("%Y-%m-%d %H:%M") + " Beijing"


def who(principal: str, people: Mapping[str, str] | None = None) -> str:
    """A principal as a Slack mention when their Slack user is known, else their name."""
    user = (people or {}).get(principal)
    if user:
        return f"<@{user}> ({escape(principal)})"
    if principal.startswith("slack:") and principal[6:].isalnum():
        return f"<@{principal[6:]}>"
    return escape(principal)


def money(amount: Decimal | None, currency: str) -> str:
    return "—" if amount is None else format_amount(Decimal(amount), currency)


def cost_phrase(est: Estimate) -> str:
    """`$40.00 for 10 hours`: the total and the span it covers (escaped)."""
    return f"{money(est.total, est.currency)} for {escape(est.period)}"


def _mrkdwn(text: str, limit: int = SECTION_LIMIT) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, limit))


@dataclass(frozen=True)
class Before:
    """What a scale or limits request changes from: the deployment as it is now."""

    capacity: str
    per_day: Decimal | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None

    def as_refs(self) -> dict[str, str]:
        """Kept on the request (refs are strings) so every later card shows the same `before`."""
        refs = {"before_capacity": self.capacity}
        for key, value in (
            ("before_per_day", self.per_day),
            ("before_rpm", self.rpm_limit),
            ("before_tpm", self.tpm_limit),
        ):
            if value is not None:
                refs[key] = str(value)
        return refs

    @classmethod
    def from_refs(cls, refs: Mapping[str, str]) -> Before | None:
        if "before_capacity" not in refs:
            return None

        def num(key: str) -> int | None:
            return int(refs[key]) if key in refs else None

        day = refs.get("before_per_day")
        return cls(
            capacity=refs["before_capacity"],
            per_day=Decimal(day) if day is not None else None,
            rpm_limit=num("before_rpm"),
            tpm_limit=num("before_tpm"),
        )


def open_ended(request: RequestRecord) -> bool:
    """Hourly billing with no end: a deploy without a duration, or any scale (it keeps running)."""
    est = request.estimate
    if est is None or est.billing != "hourly":
        return False
    return request.deploy is None or spec_is_open_ended(request.deploy)


def spec_is_open_ended(spec: DeploySpec) -> bool:
    """A deploy spec with no duration runs until someone unpublishes it."""
    return all(v is None for v in (spec.hours, spec.days, spec.months, spec.duration_seconds))


def signed_money(amount: Decimal, currency: str) -> str:
    """`+$1,920.00` / `-$40.00`: a difference, with its sign."""
    sign = "-" if amount < 0 else "+"
    return sign + format_amount(abs(Decimal(amount)), currency)


def commitment(request: RequestRecord) -> str:
    """What approving it commits the team to, as a person would feel it (escaped)."""
    if request.estimate is None:
        return "no change in cost"
    return estimate_commitment(request.estimate, open_ended(request))


def estimate_commitment(est: Estimate, endless: bool) -> str:
    """Open-ended hourly: per day and per 30 days (never "$40 for 1 hour"); hourly with a
    duration: the whole span; upfront and monthly: the whole order."""
    cur = est.currency
    if est.billing != "hourly":
        paid = ", paid upfront" if est.billing == "upfront" else ", billed monthly"
        return f"{money(est.total, cur)} for the whole order ({escape(est.period)}){paid}"
    if endless and est.per_day is not None:
        parts = [f"{money(est.per_day, cur)} per day"]
        if est.per_30_days is not None:
            parts.append(f"{money(est.per_30_days, cur)} per 30 days")
        rate = f" at {money(est.per_hour, cur)}/h" if est.per_hour is not None else ""
        return " · ".join(parts) + f" (billed hourly{rate}, until someone unpublishes it)"
    day = f" ({money(est.per_day, cur)} per day)" if est.per_day is not None else ""
    return f"{cost_phrase(est)}{day}"


def per_day_change(request: RequestRecord, before: Before | None) -> str | None:
    """`$960.00 → $2,880.00 per day (+$1,920.00)` for a scale, when both sides are priced."""
    est = request.estimate
    if before is None or est is None:
        return None
    old, new = before.per_day, est.per_day
    if old is None or new is None:
        return None
    cur = est.currency
    diff = signed_money(Decimal(new) - Decimal(old), cur)
    return f"{money(old, cur)} → {money(new, cur)} per day ({diff})"


def _limit(value: int | None) -> str:
    return "none" if value is None else f"{value:,}"


def limits_change(request: RequestRecord, before: Before | None) -> str | None:
    """`RPM 50 → 100 · TPM 20,000 (unchanged)` for a limits request."""
    spec = request.limits
    if spec is None:
        return None
    parts = []
    for label, old, new in (
        ("RPM", before.rpm_limit if before else None, spec.rpm_limit),
        ("TPM", before.tpm_limit if before else None, spec.tpm_limit),
    ):
        if new is None or (before is not None and new == old):
            if before is not None:
                parts.append(f"{label} {_limit(old)} (unchanged)")
        elif before is None:
            parts.append(f"{label} → {_limit(new)}")
        else:
            parts.append(f"{label} {_limit(old)} → {_limit(new)}")
    return " · ".join(parts)


def new_capacity(request: RequestRecord) -> str | None:
    """The capacity a scale asks for, in words."""
    spec = request.scale
    if spec is None:
        return None
    plan = "mu" if spec.units is not None else "ptu"
    return capacity_text(
        plan, spec.units, spec.input_tpm, spec.output_tpm, spec.thinking_output_tpm
    )


def _cost_fields(request: RequestRecord, before: Before | None) -> list[MarkdownTextObject]:
    est = request.estimate
    fields = [_mrkdwn(f"*Commitment*\n{commitment(request)}", FIELD_LIMIT)]
    target = new_capacity(request)
    if target is not None:
        was = f"{escape(before.capacity)} → " if before is not None else "→ "
        fields.append(_mrkdwn(f"*Capacity*\n{was}{escape(target)}", FIELD_LIMIT))
    change = per_day_change(request, before)
    if change is not None:
        fields.append(_mrkdwn(f"*Cost change*\n{change}", FIELD_LIMIT))
    limits = limits_change(request, before)
    if limits:
        fields.append(_mrkdwn(f"*Limits*\n{limits}", FIELD_LIMIT))
    if est is not None and est.per_hour is not None and est.billing == "hourly":
        fields.append(_mrkdwn(f"*Per hour*\n{money(est.per_hour, est.currency)}", FIELD_LIMIT))
    return fields


def approve_question(request: RequestRecord, before: Before | None = None) -> str:
    """The Approve dialog's text: what, the commitment, and for a scale the difference."""
    text = f"{escape(request.summary)}. Commits: {commitment(request)}."
    est = request.estimate
    if before is not None and est is not None:
        old, new = before.per_day, est.per_day
        if old is not None and new is not None:
            diff = signed_money(Decimal(new) - Decimal(old), est.currency)
            text += f" That is {diff} per day."
    return text + " Approve it?"


def _decisions_text(request: RequestRecord, people: Mapping[str, str] | None) -> str:
    lines = []
    for d in request.decisions:
        verb = "approved" if d.verdict == "approve" else "rejected"
        reason = f": {escape(d.reason)}" if d.reason else ""
        lines.append(f"• {who(d.principal, people)} {verb} via {d.surface}, {when(d.at)}{reason}")
    return "\n".join(lines)


def _outcome_text(request: RequestRecord, people: Mapping[str, str] | None) -> str:
    label = STATUS_LABELS.get(request.status, escape(str(request.status)))
    parts = [f"*{label}*"]
    decided = _decisions_text(request, people)
    if decided:
        parts.append(decided)
    if request.deployment_id and request.status == RequestStatus.EXECUTED:
        parts.append(f"Deployment `{escape(request.deployment_id)}`")
    if request.error:
        why = "Why" if request.status == RequestStatus.STALE else "Error"
        parts.append(f"{why}: {escape(request.error)}")
    return "\n".join(parts)


def request_card(
    request: RequestRecord,
    people: Mapping[str, str] | None = None,
    deciders: Sequence[str] | None = None,
    before: Before | None = None,
) -> Card:
    """The approval card: what, cost, who asked and why, policy, who decides, and buttons.

    `deciders` are the Slack ids of the people who may still decide (mentioned, so Slack
    notifies them); None means anyone in the workspace but the requester (open mode).
    """
    summary = escape(request.summary)
    status = str(request.status)
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(
                text=clip(f"{request.kind.capitalize()} request · {status}", HEADER_LIMIT),
                emoji=True,
            ),
            block_id="modeldeck_header",
        ),
    ]
    intro = f"*{summary}*\nRequested by {who(request.requester, people)} via {request.surface}"
    if request.reason:
        intro += f"\n>{escape(request.reason)}"
    blocks.append(SectionBlock(text=_mrkdwn(intro), block_id="modeldeck_summary"))
    policy = request.policy
    fields = _cost_fields(request, before)
    fields.append(_mrkdwn(f"*Policy*\n{escape(policy.rule)}", FIELD_LIMIT))
    approvals = f"{request.approvals_so_far} of {request.approvals_required}"
    fields.append(_mrkdwn(f"*Approvals*\n{approvals}", FIELD_LIMIT))
    if request.status == RequestStatus.PENDING:
        fields.append(_mrkdwn(f"*Who decides*\n{_deciders_text(request, deciders)}", FIELD_LIMIT))
    blocks.append(SectionBlock(fields=fields[:10], block_id="modeldeck_cost"))
    if request.estimate is not None and request.estimate.lines:
        lines = [
            f"• {escape(line.description)}: {money(line.amount, request.estimate.currency)}"
            for line in request.estimate.lines[:8]
        ]
        if len(request.estimate.lines) > 8:
            lines.append(f"… and {len(request.estimate.lines) - 8} more line(s)")
        blocks.append(SectionBlock(text=_mrkdwn("\n".join(lines)), block_id="modeldeck_lines"))
    from modeldeck_slack.budget_fields import budget_blocks  # (imports this module)

    blocks.extend(budget_blocks(request))
    context = f"Request `{escape(request.id)}` · created {when(request.created_at)}"
    if request.expires_at is not None and request.status == RequestStatus.PENDING:
        context += f" · expires {when(request.expires_at)}"
    blocks.append(ContextBlock(elements=[_mrkdwn(context)], block_id="modeldeck_context"))
    if request.status == RequestStatus.PENDING:
        blocks.append(buttons(request, before=before, withdraw=True))
        decided = _decisions_text(request, people)
        if decided:
            blocks.append(SectionBlock(text=_mrkdwn(decided), block_id="modeldeck_votes"))
    else:
        blocks.append(
            SectionBlock(text=_mrkdwn(_outcome_text(request, people)), block_id="modeldeck_outcome")
        )
    cost = f", {commitment(request)}" if request.estimate is not None else ""
    text = clip(f"{request.kind} request {request.id} ({status}): {summary}{cost}", 3000)
    return Card(text=text, blocks=blocks)


def _deciders_text(request: RequestRecord, deciders: Sequence[str] | None) -> str:
    if deciders is None:
        return "anyone here but the requester"
    voted = {d.principal for d in request.decisions}
    left = [u for u in deciders if f"slack:{u}" not in voted]
    if not left:
        return f"nobody in Slack has the role {escape(request.policy.approver_role)}"
    shown = " ".join(f"<@{u}>" for u in left[:20])
    more = f" and {len(left) - 20} more" if len(left) > 20 else ""
    return shown + more


def buttons(
    request: RequestRecord,
    block_id: str = ACTIONS_BLOCK_ID,
    before: Before | None = None,
    *,
    withdraw: bool = False,
) -> ActionsBlock:
    """Approve / Reject with confirm dialogs (and, on the card, Withdraw for its requester);
    `block_id` must be unique within one message.

    The Approve dialog repeats the commitment (per day and per 30 days when open-ended)."""
    approve_text = clip(approve_question(request, before), 300)
    extra = [withdraw_button(request)] if withdraw else []
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(
                text=PlainTextObject(text="Approve"),
                action_id=APPROVE_ACTION,
                value=request.id,
                style="primary",
                confirm=ConfirmObject(
                    title=PlainTextObject(text="Approve this request?"),
                    text=MarkdownTextObject(text=approve_text),
                    confirm=PlainTextObject(text="Approve"),
                    deny=PlainTextObject(text="Cancel"),
                    style="primary",
                ),
            ),
            ButtonElement(
                text=PlainTextObject(text="Reject"),
                action_id=REJECT_ACTION,
                value=request.id,
                style="danger",  # opens the reject modal, which asks for the reason
            ),
            *extra,
        ],
    )


def withdraw_button(request: RequestRecord) -> ButtonElement:
    """Withdraw, for the requester (anyone else who clicks is told only they may)."""
    return ButtonElement(
        text=PlainTextObject(text="Withdraw"),
        action_id=WITHDRAW_ACTION,
        value=request.id,
        confirm=ConfirmObject(
            title=PlainTextObject(text="Withdraw your request?"),
            text=MarkdownTextObject(
                text=clip(
                    f"{escape(request.summary)}: nothing will run. Only its requester can.", 300
                ),
            ),
            confirm=PlainTextObject(text="Withdraw"),
            deny=PlainTextObject(text="Keep it"),
        ),
    )


def text_card(text: str, *, title: str | None = None) -> Card:
    """Plain command output as preformatted sections (split to fit Slack's limits)."""
    blocks: list[Block] = []
    if title:
        blocks.append(SectionBlock(text=_mrkdwn(f"*{escape(title)}*")))
    chunks = _chunks(escape(text), SECTION_LIMIT - 8)
    room = MAX_MESSAGE_BLOCKS - len(blocks)
    for chunk in chunks[:room]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"```{chunk}```")))
    if len(chunks) > room:
        blocks[-1] = SectionBlock(text=_mrkdwn("… output cut: too long for one Slack message."))
    return Card(text=clip(escape(text), 3000) or escape(title or ""), blocks=blocks)


def result_card(result: Result, **_: Any) -> Card:
    """What a /deck command produced, as its text (any result without a card of its own)."""
    title = None if result.ok else ":warning: That did not work"
    return text_card(result.text or "(no output)", title=title)


def error_card(message: str) -> Card:
    """A user error: what was wrong and what is allowed, never a traceback."""
    text = f":warning: {escape(message)}"
    return Card(text=clip(text, 3000), blocks=[SectionBlock(text=_mrkdwn(text))])


def note_card(message: str) -> Card:
    """A one-line note (mrkdwn already escaped by the caller)."""
    return Card(text=clip(message, 3000), blocks=[SectionBlock(text=_mrkdwn(message))])


def progress_text(deployment: DeploymentRecord, old_status: str | None, new_status: str) -> str:
    """One thread line for a deployment status change."""
    name = escape(deployment.name or deployment.deployed_model or deployment.id)
    was = f" (was {escape(old_status)})" if old_status else ""
    return f"`{name}` is now *{escape(new_status)}*{was}"


def _chunks(text: str, size: int) -> list[str]:
    """Split on line boundaries into pieces of at most `size` characters."""
    out: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > size:
            if current:
                out.append(current)
                current = ""
            out.append(line[:size])
            line = line[size:]
        if len(current) + len(line) > size:
            out.append(current)
            current = ""
        current += line
    if current or not out:
        out.append(current)
    return [c.rstrip("\n") or " " for c in out]


def people_map(principals: Sequence[Any]) -> dict[str, str]:
    """principal name -> Slack user id, from `[[principals]]` in the settings."""
    return {p.name: p.slack_user for p in principals if getattr(p, "slack_user", None)}
