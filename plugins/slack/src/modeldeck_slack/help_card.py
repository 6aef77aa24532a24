"""`/deck help` in Block Kit: the verbs in groups (one short line each), or one verb's usage,
options (as fields) and examples. Read from the verb table like the text help, so it cannot
drift from what the parser accepts."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, HeaderBlock, PlainTextObject, SectionBlock

from modeldeck.grammar import KEYS, all_verbs, help_text
from modeldeck.grammar.help import SYNTAX_TOPICS, help_topic
from modeldeck_slack.blocks import FIELD_LIMIT, Card, clip, escape
from modeldeck_slack.limits import SECTION_FIELDS
from modeldeck_slack.modals import deploy_button
from modeldeck_slack.paging import context, mrkdwn

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Prices and plans", ("models", "estimate", "compare", "plan")),
    (
        "Ask for a change",
        ("deploy", "scale", "renew", "limits", "unpublish", "schedule", "withdraw"),
    ),
    ("Decide", ("approvals", "approve", "reject")),
    ("Deployments and spend", ("list", "status", "schedules", "cost", "budget", "alerts")),
)
FOOTER = (
    "`/deck help <command>`: its options and examples\n"
    "`/deck help syntax`: numbers, durations and quotes\n"
    "`/deck deploy` alone opens a form"
)


def _line(verb: str, description: str) -> str:
    """One verb, one short line: its description up to the first `;` (`help <verb>` has all)."""
    short = description.split("; ")[0].rstrip(".")
    return f"• `{escape(verb)}` — {escape(short)}."


def help_card(topic: str | None = None) -> Card:
    """The command list, one verb's usage, or the syntax notes (never a code block)."""
    if topic and topic.strip():
        return topic_card(topic)
    verbs = all_verbs()
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="modeldeck commands"))]
    listed: set[str] = set()
    for title, names in GROUPS:
        lines = [_line(n, verbs[n].description) for n in names if n in verbs]
        listed.update(names)
        if lines:
            blocks.append(SectionBlock(text=mrkdwn(f"*{title}*\n" + "\n".join(lines))))
    others = [_line(n, v.description) for n, v in verbs.items() if n not in listed | {"help"}]
    if others:
        blocks.append(SectionBlock(text=mrkdwn("*More*\n" + "\n".join(others))))
    blocks.append(ActionsBlock(block_id="modeldeck_help_actions", elements=[deploy_button()]))
    blocks.append(context(FOOTER))
    return Card(text="modeldeck commands: " + ", ".join(verbs), blocks=blocks[:50])


def topic_card(topic: str) -> Card:
    """`help <verb>`: usage, what it does, its options as fields, examples."""
    name = help_topic(topic)
    if name in SYNTAX_TOPICS:
        lines = [escape(part.strip()) for part in help_text(name).split("\n") if part.strip()]
        return Card(
            text=clip(help_text(name), 3000),
            blocks=[
                HeaderBlock(text=PlainTextObject(text="Writing commands")),
                *[SectionBlock(text=mrkdwn(line)) for line in lines[:45]],
            ],
        )
    info = all_verbs()[name]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(f"/deck {name}", 150))),
        SectionBlock(text=mrkdwn(f"`{escape(info.usage)}`\n{escape(info.description)}")),
    ]
    fields = []
    for key in info.allowed_keys():
        k = KEYS[key]
        also = f" (also {', '.join(a + '=' for a in k.aliases)})" if k.aliases else ""
        text = f"*{escape(k.name)}={escape(k.value)}*\n{escape(k.description)}{also}"
        fields.append(mrkdwn(text, FIELD_LIMIT))
    for i in range(0, len(fields), SECTION_FIELDS):
        title = "*Options*" if i == 0 else "*Options (continued)*"
        blocks.append(SectionBlock(text=mrkdwn(title), fields=fields[i : i + SECTION_FIELDS]))
    examples = "\n".join(f"`/deck {escape(e)}`" for e in info.examples)
    blocks.append(SectionBlock(text=mrkdwn(f"*Examples*\n{examples}")))
    return Card(text=clip(f"Usage: {info.usage}", 3000), blocks=blocks[:50])
