"""`/deck models`, `estimate` and `compare` in Block Kit: fields, not code blocks.

The catalog is one section per model with a field per price (paged by model); an estimate is
its figures as fields, its priced lines as a list, the order timeline and the comparison as
fields, notes as context, and a Share to channel button.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject, SectionBlock

from modeldeck.domain import Estimate, EstimateLine
from modeldeck.money import format_amount
from modeldeck.results import CatalogRow
from modeldeck_slack.blocks import FIELD_LIMIT, Card, clip, escape, money, when
from modeldeck_slack.limits import SECTION_FIELDS, SECTION_TEXT
from modeldeck_slack.paging import context, mrkdwn, paged, share_button

PLAN_WORDS = {"ptu": "Provisioned throughput (PTU)", "mu": "Model units (MU)"}
BILLING_WORDS = {
    "hourly": "pay-as-you-go hourly",
    "upfront": "upfront daily package",
    "monthly": "monthly package",
}
MODELS_PER_PAGE = 6


def _price(row: CatalogRow) -> str:
    """One catalog price: what it is for and how much (unlisted says so, never $0)."""
    what = " · ".join(x for x in (row.plan, row.mode, row.billing, row.tier) if x)
    amount = (
        format_amount(row.amount, row.currency, exact=True)
        if row.amount is not None
        else "*not listed*"
    )
    unit = f" {escape(row.unit)}" if row.unit else ""
    return f"*{escape(what)}* ({escape(row.price)})\n{amount}{unit}"


def models_card(rows: Sequence[CatalogRow], command: str | None = None, start: int = 0) -> Card:
    """The catalog: a section per model, its prices as fields (10 a section), paged by model."""
    by_model: dict[str, list[CatalogRow]] = {}
    for row in rows:
        by_model.setdefault(row.model, []).append(row)
    items: list[list[Block]] = []
    for model, prices in by_model.items():
        fields = [mrkdwn(_price(r), FIELD_LIMIT) for r in prices]
        blocks: list[Block] = []
        for i in range(0, len(fields), SECTION_FIELDS):
            title = f"*{escape(model)}*" if i == 0 else f"*{escape(model)}* (continued)"
            blocks.append(SectionBlock(text=mrkdwn(title), fields=fields[i : i + SECTION_FIELDS]))
        items.append(blocks)
    if not items:
        return Card(text="No models.", blocks=[SectionBlock(text=mrkdwn("No models."))])
    sources = sorted({f"{r.source} ({r.as_of})" for r in rows if r.source})
    tail: list[Block] = (
        [context(clip("Prices: " + "; ".join(escape(s) for s in sources), SECTION_TEXT))]
        if sources
        else []
    )
    head: list[Block] = [HeaderBlock(text=PlainTextObject(text="Models and prices"))]
    text = f"{len(by_model)} models, {len(rows)} prices: " + ", ".join(by_model)
    return paged(
        text,
        head,
        items,
        command=command,
        start=start,
        tail=tail,
        per_page=MODELS_PER_PAGE,
        noun="models",
    )


def _num(value: Decimal) -> str:
    normal = Decimal(value).normalize()
    if normal == normal.to_integral_value():
        return f"{int(normal):,}"
    return f"{normal:,f}"


def line_text(line: EstimateLine, currency: str) -> str:
    """`• input: 2 × $1.11 per 10k TPM·hour × 10 hours = $22.20`."""
    parts = [f"• {escape(line.description)}:"]
    if line.quantity is not None and line.rate is not None:
        rate = format_amount(line.rate, currency, exact=True)
        unit = (line.rate_unit or "").removeprefix(f"{currency} ")
        parts.append(f"{_num(line.quantity)} × {rate} {escape(unit)}".rstrip())
        if line.periods is not None:
            plural = "" if line.periods == 1 else "s"
            parts.append(f"× {_num(line.periods)} {escape(line.period_unit or '')}{plural}")
    parts.append(f"= *{format_amount(line.amount, currency)}*")
    return " ".join(parts)


def _sections(lines: Sequence[str], limit: int = SECTION_TEXT) -> list[Block]:
    """Lines packed into as few sections as fit (each at most `limit` characters)."""
    out: list[Block] = []
    chunk = ""
    for line in lines:
        line = clip(line, limit)
        if chunk and len(chunk) + 1 + len(line) > limit:
            out.append(SectionBlock(text=mrkdwn(chunk)))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        out.append(SectionBlock(text=mrkdwn(chunk)))
    return out


def estimate_card(
    est: Estimate, command: str | None = None, *, compare: bool = False, verdict: str | None = None
) -> Card:
    """An estimate or a comparison (with its `verdict` headline): figures as fields, lines,
    timeline, the comparison, notes, and Share to channel."""
    cur = est.currency
    title = f"{'Comparison' if compare else 'Estimate'}: {est.model} ({est.mode})"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(title, 150))),
        SectionBlock(
            text=mrkdwn(
                f"{PLAN_WORDS.get(est.plan, escape(est.plan))}, "
                f"{BILLING_WORDS.get(est.billing, escape(est.billing))}"
            ),
            fields=[
                mrkdwn(f"*{label}*\n{money(value, cur)}", FIELD_LIMIT)
                for label, value in (
                    (f"Total for {escape(est.period)}", est.total),
                    ("Per hour", est.per_hour),
                    ("Per day", est.per_day),
                    ("Per 30 days", est.per_30_days),
                )
                if value is not None
            ],
        ),
    ]
    lines = [line_text(line, cur) for line in est.lines]
    blocks += _sections(lines)[:10]
    if est.timeline is not None:
        t = est.timeline
        extra = " (22:00 or later: one extra day)" if t.extra_day else ""
        blocks.append(
            SectionBlock(
                text=mrkdwn("*Order timeline* (Beijing time)"),
                fields=[
                    mrkdwn(f"*Ordered*\n{when(t.ordered_at)}"),
                    mrkdwn(f"*Expires*\n{when(t.expires_at)}{extra}"),
                    mrkdwn(f"*Stops*\n{when(t.stops_at)} (2 h after expiry)"),
                    mrkdwn(f"*Released*\n{when(t.released_at)} (14 h after stopping)"),
                ],
            )
        )
    if est.cancellation is not None:
        c = est.cancellation
        blocks.append(
            SectionBlock(
                text=mrkdwn(
                    f"*Cancelled early*: {c.billed_days} day(s) used, re-billed at 1.2 × the "
                    f"daily price = {money(c.settled, cur)} settled, {money(c.refund, cur)} "
                    f"refunded (of {money(c.paid, cur)} paid)."
                )
            )
        )
    if est.comparison:
        fields = []
        for row in est.comparison[:SECTION_FIELDS]:
            row_cur = str(row.get("currency", cur))
            mark = " :white_check_mark: cheaper" if row.get("cheaper") else ""
            fields.append(
                mrkdwn(
                    f"*{escape(str(row.get('billing')))}*{mark}\n"
                    f"{money(Decimal(str(row['per_day'])), row_cur)} per day · "
                    f"{money(Decimal(str(row['per_30_days'])), row_cur)} per 30 days",
                    FIELD_LIMIT,
                )
            )
        head = f"*Comparison: {escape(verdict)}*" if verdict else "*Comparison*"
        blocks.append(SectionBlock(text=mrkdwn(head), fields=fields))
    if est.notes:
        blocks += _sections([f"• {escape(n)}" for n in est.notes])[:5]
    blocks += share_button(command)
    text = f"{title}: {money(est.total, cur)} for {est.period}"
    return Card(text=clip(text, SECTION_TEXT), blocks=blocks[:50])
