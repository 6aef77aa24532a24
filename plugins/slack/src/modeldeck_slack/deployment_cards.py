"""`/deck list` and `/deck status` in Block Kit: a section per deployment with fields.

The list is paged (a More button asks for the rest) and each live deployment carries a menu
that opens its Scale, Renew or Unpublish modal; status shows one deployment's figures as
fields, what it cost so far (or that a price is unknown, never $0) and the same buttons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    HeaderBlock,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)

from modeldeck.domain import DeploymentRecord
from modeldeck.schedules.text import next_change_text
from modeldeck.schedules.views import ScheduledChange, ScheduleView
from modeldeck_slack.blocks import FIELD_LIMIT, Card, clip, escape, money, when
from modeldeck_slack.modals import (
    DEPLOYMENT_MENU_ACTION,
    deploy_button,
    deployment_buttons,
    deployment_name,
    renewable,
)
from modeldeck_slack.paging import context, mrkdwn, paged

GONE = ("DELETED", "DELETING", "OFFLINING")
LIST_PER_PAGE = 15


def _status(dep: DeploymentRecord) -> str:
    extra = " (imported)" if dep.imported else ""
    unknown = " · :warning: price unknown" if dep.price_note else ""
    return f"`{escape(dep.status)}`{extra}{unknown}"


def deployment_menu(dep: DeploymentRecord) -> OverflowMenuElement | None:
    """Scale / Renew / Unpublish for a live deployment (each opens its modal)."""
    if dep.status in GONE:
        return None
    verbs = ["scale", *(["renew"] if renewable(dep) else []), "unpublish"]
    return OverflowMenuElement(
        action_id=DEPLOYMENT_MENU_ACTION,
        options=[Option(value=f"{v}:{dep.id}", text=f"{v.capitalize()}…") for v in verbs],
    )


def deployment_section(
    dep: DeploymentRecord, change: ScheduledChange | None = None
) -> SectionBlock:
    """One deployment: name and status, then model, plan and billing, capacity, created, and
    its next scheduled capacity change when it has one."""
    fields = [
        mrkdwn(f"*Model*\n{escape(dep.model)} ({escape(dep.mode)})", FIELD_LIMIT),
        mrkdwn(f"*Plan*\n{dep.plan}, billed {dep.billing}", FIELD_LIMIT),
        mrkdwn(f"*Capacity*\n{escape(dep.capacity)}", FIELD_LIMIT),
        mrkdwn(f"*Created*\n{when(dep.created_at)}", FIELD_LIMIT),
    ]
    if change is not None:
        fields.append(mrkdwn(f"*Next change*\n{escape(next_change_text(change))}", FIELD_LIMIT))
    return SectionBlock(
        text=mrkdwn(f"*{escape(deployment_name(dep))}* · {_status(dep)}"),
        fields=fields,
        accessory=deployment_menu(dep),
    )


def list_card(
    deps: Sequence[DeploymentRecord],
    command: str | None = None,
    start: int = 0,
    include_deleted: bool = False,
    next_changes: Mapping[str, ScheduledChange] | None = None,
) -> Card:
    """Deployments, a section each, paged; an empty list offers the deploy form."""
    if not deps:
        text = "No deployments yet. Try `/deck estimate`, then deploy."
        return Card(
            text=text,
            blocks=[
                SectionBlock(text=mrkdwn(text)),
                ActionsBlock(block_id="modeldeck_list_actions", elements=[deploy_button()]),
            ],
        )
    live = sum(1 for d in deps if d.status not in GONE)
    which = "all deployments" if include_deleted else "deployments"
    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"{len(deps)} {which} ({live} live)"))
    ]
    changes = next_changes or {}
    items: list[list[Block]] = [[deployment_section(d, changes.get(d.id))] for d in deps]
    text = f"{len(deps)} deployments: " + ", ".join(deployment_name(d) for d in deps)
    return paged(
        text, head, items, command=command, start=start, per_page=LIST_PER_PAGE, noun="deployments"
    )


def status_card(
    dep: DeploymentRecord,
    cost_so_far: Decimal,
    currency: str,
    unpriced: Sequence[str] = (),
    schedule: ScheduleView | None = None,
) -> Card:
    """One deployment in detail, what it cost so far, its schedule, and what can be done."""
    incomplete = bool(unpriced) or dep.price_note is not None
    so_far = money(cost_so_far, currency)
    cost = f"{so_far} *incomplete: a price is not listed*" if incomplete else so_far
    fields = [
        mrkdwn(f"*Status*\n{_status(dep)}", FIELD_LIMIT),
        mrkdwn(f"*Model*\n{escape(dep.model)} ({escape(dep.mode)})", FIELD_LIMIT),
        mrkdwn(f"*Plan*\n{dep.plan}, billed {dep.billing}", FIELD_LIMIT),
        mrkdwn(f"*Capacity*\n{escape(dep.capacity)}", FIELD_LIMIT),
        mrkdwn(f"*Cost so far*\n{cost}\n(since creation, overflow included)", FIELD_LIMIT),
        mrkdwn(f"*Created*\n{when(dep.created_at)}", FIELD_LIMIT),
        mrkdwn(f"*Updated*\n{when(dep.updated_at)}", FIELD_LIMIT),
    ]
    if dep.rpm_limit or dep.tpm_limit:
        limits = f"RPM {dep.rpm_limit or '–'} · TPM {dep.tpm_limit or '–'}"
        fields.append(mrkdwn(f"*Limits*\n{limits}", FIELD_LIMIT))
    name = deployment_name(dep)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(name, 150))),
        SectionBlock(text=mrkdwn(f"`{escape(dep.id)}`"), fields=fields[:10]),
    ]
    warnings = [f":warning: Not in the total: {escape(item)}" for item in unpriced]
    if dep.price_note:
        warnings.insert(0, f":warning: Price unknown: {escape(dep.price_note)}")
    if warnings:
        blocks.append(SectionBlock(text=mrkdwn("\n".join(warnings))))
    if schedule is not None:
        lines = [
            f"*Schedule* `{escape(schedule.id)}` ({escape(schedule.state)}): "
            f"{escape(schedule.summary)}"
        ]
        if schedule.next_change is not None:
            lines.append(f"Next change: {escape(next_change_text(schedule.next_change))}")
        if schedule.paused_reason:
            lines.append(f":warning: Paused: {escape(schedule.paused_reason)}")
        blocks.append(SectionBlock(text=mrkdwn("\n".join(lines))))
    if dep.imported:
        blocks.append(context("Imported from the Model Studio console; tracked and billed here."))
    buttons = deployment_buttons(dep)
    if buttons:
        blocks.append(ActionsBlock(block_id="modeldeck_status_actions", elements=buttons))
    text = f"{name}: {dep.status}, {dep.capacity}, {so_far} so far"
    return Card(text=clip(text, 3000), blocks=blocks)
