"""`/deck cost … forecast`, `budget` and `alerts` in Block Kit: sections with fields.

A forecast is its totals as fields, then a section per deployment (to date, reserved and overflow
still to come, the forecast) with its assumptions as context; the budget view a section per
budget (amount, spent, forecast, thresholds, period, status) and `budget set` what it stored;
alerts a section each with a severity emoji. Each is paged with More; forecasts and budgets
carry Share to channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from slack_sdk.models.blocks import (
    Block,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from modeldeck.alerts.models import RaisedAlert
from modeldeck.billing.forecast import Forecast
from modeldeck.budgets.models import Budget
from modeldeck.money import format_amount, round_cents
from modeldeck.spend.text import budget_set_text
from modeldeck.workflow.spend import AlertsReport, BudgetLine, BudgetReport, ForecastReport
from modeldeck_slack.answers import period_words
from modeldeck_slack.blocks import FIELD_LIMIT, Card, clip, escape, when
from modeldeck_slack.limits import SECTION_TEXT
from modeldeck_slack.paging import context, mrkdwn, paged, share_button

FORECASTS_PER_PAGE = 12  # two blocks each (figures, assumptions)
BUDGETS_PER_PAGE = 12  # two blocks each (figures, assumptions)
ALERTS_PER_PAGE = 15  # one block each
BUDGET_STATUS = {
    "ok": ":large_green_circle: ok",
    "threshold": ":large_yellow_circle: threshold reached",
    "forecast overrun": ":large_orange_circle: forecast overrun",
    "over": ":red_circle: over budget",
}
SEVERITY = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}
NO_BUDGETS = (
    "No budgets (add `[[budgets]]` to modeldeck.toml, or as an admin: "
    "`/deck budget set name=<name> amount=<USD>`)."
)


def _period(start: datetime, end: datetime) -> str:
    return f"{when(start)} → {when(end)}"


def _field(label: str, value: str) -> MarkdownTextObject:
    return mrkdwn(f"*{label}*\n{value}", FIELD_LIMIT)


def _notes(notes: Sequence[str], block_id: str | None = None) -> list[Block]:
    """Assumptions as one context line (clipped), or nothing."""
    if not notes:
        return []
    return [context(clip("; ".join(escape(n) for n in notes), SECTION_TEXT), block_id)]


def _forecast_item(f: Forecast) -> list[Block]:
    cur = f.currency
    head = (
        f"*{escape(f.deployment_id)}* · {escape(f.model)} · {escape(f.plan)} billed "
        f"{escape(f.billing)} · `{escape(f.state)}`"
    )
    fields = [
        _field("Spent to date", format_amount(f.to_date, cur)),
        _field("Reserved to come", format_amount(f.reserved_to_come, cur)),
        _field("Overflow to come", format_amount(f.overflow_to_come, cur)),
        _field("Forecast", f"*{format_amount(f.total, cur)}*"),
    ]
    return [SectionBlock(text=mrkdwn(head), fields=fields), *_notes(f.assumptions)]


def forecast_card(report: ForecastReport, command: str | None = None, start: int = 0) -> Card:
    """`cost … forecast`: the period's totals as fields, then a section per deployment."""
    who = f"`{escape(report.target)}`" if report.target else "all deployments"
    if not report.forecasts:
        text = (
            f"Nothing to forecast for {who} in {escape(period_words(report.period))}."
            if report.target
            else f"Nothing to forecast for any deployment in {escape(period_words(report.period))}."
        )
        return Card(text=text, blocks=[SectionBlock(text=mrkdwn(text))])
    forecasts = report.forecasts
    currencies = {f.currency for f in forecasts}
    cur = next(iter(currencies)) if len(currencies) == 1 else None
    intro = (
        f"{who}, {_period(report.period_start, report.period_end)}\n"
        f"as of {when(report.now)}: spend to date, plus reserved capacity still to come, plus "
        "overflow projected from recent use"
    )
    totals: list[MarkdownTextObject] = []
    title = f"Forecast for {period_words(report.period)}"
    summary = f"{title}, {report.target or 'all deployments'}"
    if cur is not None:  # totals rounded once from the exact sums

        def total(values: Sequence[Decimal]) -> str:
            return format_amount(sum(values, Decimal(0)), cur)

        totals = [
            _field("Spent to date", total([f.to_date for f in forecasts])),
            _field("Reserved to come", total([f.reserved_to_come for f in forecasts])),
            _field("Overflow to come", total([f.overflow_to_come for f in forecasts])),
            _field("Forecast for the period", f"*{total([f.total for f in forecasts])}*"),
        ]
        summary += f": {total([f.total for f in forecasts])}"
    else:
        intro += "\n(no totals: the deployments are priced in different currencies)"
    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(title, 150))),
        SectionBlock(text=mrkdwn(intro), fields=totals or None),
    ]
    items = [_forecast_item(f) for f in forecasts]
    return paged(
        summary,
        head,
        items,
        command=command,
        start=start,
        tail=share_button(command),
        per_page=FORECASTS_PER_PAGE,
        noun="deployments",
    )


def _thresholds(line: BudgetLine) -> str:
    f = line.forecast
    b = f.budget
    if not b.thresholds:
        return "none"
    marks = []
    for t in b.thresholds:
        amount = format_amount(b.amount_at(t))
        reached = " :white_check_mark: reached" if t in f.crossed else ""
        marks.append(f"{t}% ({amount}){reached}")
    return "\n".join(marks)


def _budget_item(line: BudgetLine) -> list[Block]:
    f = line.forecast
    b = f.budget
    kind = ("hard" if b.hard else "soft") + (", set in Slack/CLI" if line.source == "store" else "")
    head = (
        f"*{escape(b.name)}* · {escape(str(b.scope))} · per {escape(b.period)} · "
        f"{BUDGET_STATUS.get(line.status, escape(line.status))}"
    )
    fields = [
        _field("Budget", format_amount(b.amount_usd)),
        _field("Spent", f"{format_amount(f.to_date)} ({round_cents(f.spent_percent)}%)"),
        _field("Forecast", f"{format_amount(f.total)} ({round_cents(f.forecast_percent)}%)"),
        _field("Thresholds", _thresholds(line)),
        _field("Period", _period(f.period_start, f.period_end)),
        _field("Covers", f"{len(f.deployments)} deployment(s) · {kind}"),
    ]
    notes = list(f.assumptions)
    if b.hard:
        notes.insert(0, "hard: requests that would cross it need an admin")
    return [SectionBlock(text=mrkdwn(head), fields=fields), *_notes(notes)]


def budget_card(report: BudgetReport, command: str | None = None, start: int = 0) -> Card:
    """`budget`: a section per budget with its spend, forecast and thresholds as fields."""
    if not report.lines:
        return Card(text=NO_BUDGETS, blocks=[SectionBlock(text=mrkdwn(NO_BUDGETS))])
    lines = report.lines
    flagged = sum(1 for line in lines if line.status != "ok")
    title = f"Budgets ({len(lines)})"
    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=title)),
        context(
            f"As of {when(report.now)} · {flagged} need attention · forecast = spend to date "
            "+ reserved to come + projected overflow"
        ),
    ]
    items = [_budget_item(line) for line in lines]
    text = f"{title}: " + ", ".join(
        f"{line.forecast.budget.name} {format_amount(line.forecast.to_date)} of "
        f"{format_amount(line.forecast.budget.amount_usd)} ({line.status})"
        for line in lines
    )
    return paged(
        text,
        head,
        items,
        command=command,
        start=start,
        tail=share_button(command),
        per_page=BUDGETS_PER_PAGE,
        noun="budgets",
    )


def _alert_item(alert: RaisedAlert, new: bool) -> list[Block]:
    emoji = SEVERITY.get(alert.severity, ":information_source:")
    fresh = " · *new*" if new else ""
    body = (
        f"{emoji} *{escape(alert.title)}*{fresh}\n{escape(alert.text)}\n"
        f"_{escape(alert.severity)} · {escape(alert.kind)} · {escape(alert.scope)} · "
        f"raised {when(alert.raised_at)}_"
    )
    return [SectionBlock(text=mrkdwn(body))]


def alerts_card(report: AlertsReport, command: str | None = None, start: int = 0) -> Card:
    """`alerts`: how many this evaluation raised, then a section per alert of the period."""
    intro = f"{len(report.new)} new alert(s) raised now · alerts since {when(report.since)}"
    if not report.alerts:
        text = f"{intro}\nNo alerts this month."
        return Card(text=text, blocks=[SectionBlock(text=mrkdwn(text))])
    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Alerts ({len(report.alerts)})")),
        context(intro),
    ]
    fresh = {a.id for a in report.new}
    items = [_alert_item(a, a.id in fresh) for a in report.alerts]
    text = f"{len(report.alerts)} alert(s), {len(report.new)} new: " + ", ".join(
        a.title for a in report.alerts
    )
    return paged(
        escape(text),
        head,
        items,
        command=command,
        start=start,
        per_page=ALERTS_PER_PAGE,
        noun="alerts",
    )


def budget_set_card(budget: Budget) -> Card:
    """`budget set`: what was stored, in the core's one sentence, with `budget` to see it."""
    text = f":white_check_mark: {escape(budget_set_text(budget))}"
    return Card(
        text=clip(text, SECTION_TEXT),
        blocks=[
            SectionBlock(text=mrkdwn(text)),
            context("`/deck budget` shows every budget with its spend and forecast."),
        ],
    )
