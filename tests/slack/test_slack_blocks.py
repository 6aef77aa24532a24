"""Approval cards and answers are valid Block Kit (slack_sdk validates on to_dict) and honest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modeldeck.domain import (
    Decision,
    DeploySpec,
    Estimate,
    PolicyDecision,
    RequestRecord,
    RequestStatus,
)
from modeldeck.results import CatalogRow, ModelsResult
from modeldeck_slack.blocks import (
    APPROVE_ACTION,
    REJECT_ACTION,
    WITHDRAW_ACTION,
    error_card,
    request_card,
    result_card,
    text_card,
    who,
)

NOW = datetime(2025, 3, 1, 4, 30, tzinfo=UTC)  # 12:30 in Beijing


def make_request(**changes: Any) -> RequestRecord:
    base: dict[str, Any] = {
        "id": "req_abc123",
        "kind": "deploy",
        "status": RequestStatus.PENDING,
        "requester": "alice",
        "surface": "slack",
        "reason": "launch week",
        "deploy": DeploySpec(model="qwen-plus", plan="mu", units=2),
        "estimate": Estimate(
            model="qwen-plus",
            plan="mu",
            mode="instruct",
            billing="hourly",
            total=Decimal("1234.565"),
            period="for 24 hours",
            per_hour=Decimal("51.44020833"),
            per_day=Decimal("1234.565"),
        ),
        "policy": PolicyDecision(auto_approve=False, approvers_required=1, rule="1 approver"),
        "created_at": NOW,
        "expires_at": NOW,
    }
    base.update(changes)
    return RequestRecord(**base)


def dump(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def actions_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [el for b in blocks if b["type"] == "actions" for el in b["elements"]]


def test_pending_card_has_cost_policy_and_confirmed_buttons() -> None:
    card = request_card(make_request(), {"alice": "U0ALICE"})
    blocks = card.block_dicts()
    text = dump(blocks)
    assert "$1,234.57" in text  # exact total, rounded half-up only when shown
    assert "$51.44" in text
    assert "1 approver" in text and "launch week" in text
    assert "<@U0ALICE> (alice)" in text
    assert "2025-03-01 12:30 Beijing" in text
    buttons = actions_of(blocks)
    assert [b["action_id"] for b in buttons] == [APPROVE_ACTION, REJECT_ACTION, WITHDRAW_ACTION]
    assert all(b["value"] == "req_abc123" for b in buttons)
    assert "confirm" in buttons[0]  # Reject has no dialog: it opens the reason modal
    assert buttons[0]["confirm"]["confirm"]["text"] == "Approve"
    assert "$1,234.57" in buttons[0]["confirm"]["text"]["text"]
    assert "req_abc123" in card.text and "$1,234.57" in card.text


def test_decided_card_has_no_buttons_and_says_who() -> None:
    decision = Decision(principal="bob", surface="slack", verdict="approve", at=NOW)
    done = make_request(
        status=RequestStatus.EXECUTED, decisions=[decision], deployment_id="dep_xyz"
    )
    blocks = request_card(done, {"bob": "U0BOB"}).block_dicts()
    assert actions_of(blocks) == []
    text = dump(blocks)
    assert "<@U0BOB> (bob) approved via slack" in text and "dep_xyz" in text
    rejected = make_request(
        status=RequestStatus.REJECTED,
        decisions=[
            Decision(principal="bob", surface="cli", verdict="reject", reason="too big", at=NOW)
        ],
    )
    text = dump(request_card(rejected).block_dicts())
    assert "Rejected" in text and "bob rejected via cli" in text and "too big" in text
    failed = make_request(status=RequestStatus.FAILED, error="quota exceeded")
    assert "quota exceeded" in dump(request_card(failed).block_dicts())


def test_user_text_cannot_mention_or_break_limits() -> None:
    nasty = "<!channel> & <@U0BOB> " + "x" * 10_000
    card = request_card(make_request(reason=nasty, requester="<!here>"))
    text = dump(card.block_dicts())
    assert "<!channel>" not in text and "<!here>" not in text and "<@U0BOB>" not in text
    assert "&lt;!channel&gt; &amp;" in text
    assert all(len(json.dumps(b)) < 4000 for b in card.block_dicts())


def test_open_mode_principals_mention_their_slack_user() -> None:
    assert who("slack:U0ALICE") == "<@U0ALICE>"
    assert who("alice") == "alice"
    assert who("slack:<!channel>") == "slack:&lt;!channel&gt;"


def test_long_output_is_split_within_limits() -> None:
    output = "\n".join(f"row {i:04d} " + "y" * 90 for i in range(400))
    blocks = text_card(output).block_dicts()
    assert 1 < len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert "row 0000" in blocks[0]["text"]["text"]


def test_result_and_error_cards() -> None:
    models = ModelsResult(
        rows=[CatalogRow(model="qwen-plus", mode="instruct", plan="mu", price="hourly", amount=40)]
    )
    ok = result_card(models)
    assert "qwen-plus" in dump(ok.block_dicts())
    bad = error_card("Unknown model 'gpt9'. Known: qwen-plus")
    assert ":warning:" in dump(bad.block_dicts()) and "Traceback" not in bad.text


@settings(max_examples=60, deadline=None)
@given(
    reason=st.text(max_size=5000),
    requester=st.text(min_size=1, max_size=300),
    error=st.one_of(st.none(), st.text(max_size=5000)),
    status=st.sampled_from(list(RequestStatus)),
)
def test_any_text_gives_valid_blocks(
    reason: str, requester: str, error: str | None, status: RequestStatus
) -> None:
    card = request_card(
        make_request(reason=reason, requester=requester, error=error, status=status)
    )
    blocks = card.block_dicts()  # raises SlackObjectFormationError when invalid
    assert len(blocks) <= 50 and len(card.text) <= 3000
    assert (actions_of(blocks) != []) == (status == RequestStatus.PENDING)
