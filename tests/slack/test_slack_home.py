"""App Home as a dashboard over the signed wire: spend and forecast, pending requests with
Approve/Reject, deployments with their buttons; republished when an event changes it, not for
an event that changes nothing; never more than 100 blocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from modeldeck.domain import DeploymentRecord
from modeldeck.testing import Stack
from modeldeck_slack.actions import DEPLOY_ACTION, HOME_PAGE_ACTION, SCALE_ACTION
from modeldeck_slack.blocks import APPROVE_ACTION, REJECT_ACTION
from modeldeck_slack.home import MAX_HOME_BLOCKS, home_view
from tests.slack.fake_slack import FakeSlack, _check_blocks
from tests.slack.slack_env import BOB, MU_MODEL, SlackUser
from tests.slack.slack_wire import SlackSender, block_actions_payload, interaction_body


def publishes(fake: FakeSlack, user: str) -> list[dict[str, Any]]:
    return [
        c.args["view"] for c in fake.calls("views.publish", ok=True) if c.args["user_id"] == user
    ]


def elements(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def home_click(sender: SlackSender, fake: FakeSlack, action_id: str, value: str) -> None:
    """A button pressed in App Home: the container is the view (no channel, no response_url)."""
    payload = block_actions_payload(
        action_id=action_id,
        value=value,
        user=BOB,
        channel="",
        message_ts="",
        response_url="",
        trigger_id=fake.trigger_id(),
    )
    payload["container"] = {"type": "view", "view_id": fake.state.home[BOB]["id"]}
    payload["view"] = fake.state.home[BOB]
    for key in ("channel", "message", "response_url"):
        payload.pop(key)
    assert sender.post(interaction_body(payload)).status_code == 200


def test_home_is_a_dashboard_refreshed_by_events(
    alice: SlackUser, sender: SlackSender, fake_slack: FakeSlack, stack: Stack
) -> None:
    alice.answer(f'deploy {MU_MODEL} mu units=1 reason="dashboard"')
    assert sender.event({"type": "app_home_opened", "user": BOB, "tab": "home"}).status_code == 200
    [view] = fake_slack.wait_for(lambda f: publishes(f, BOB), what="the first publish")
    _check_blocks(view["blocks"], MAX_HOME_BLOCKS)
    text = json.dumps(view)
    assert "Spend this month" in text and "forecast" in text and MU_MODEL in text
    assert stack.deck is not None
    (request,) = stack.deck.list_requests("pending")
    buttons = {(e["action_id"], e["value"]) for e in elements(view)}
    assert {(APPROVE_ACTION, request.id), (REJECT_ACTION, request.id)} <= buttons
    assert DEPLOY_ACTION in {a for a, _ in buttons}
    # the same event delivered again changes nothing on the dashboard: no second publish
    from modeldeck.events import RequestCreated

    stack.deck.emit(RequestCreated(request=stack.deck.get_request(request.id)))
    # a new request does change it: republished for Bob, who opened App Home
    alice.answer(f'deploy {MU_MODEL} mu units=2 reason="second"')
    fake_slack.wait_for(lambda f: len(publishes(f, BOB)) >= 2, what="the refresh")
    assert len(publishes(fake_slack, BOB)) == 2
    approvals = [
        e for e in elements(publishes(fake_slack, BOB)[-1]) if e["action_id"] == APPROVE_ACTION
    ]
    assert len(approvals) == 2
    # Bob approves from App Home: the dashboard then shows the deployment with its buttons
    home_click(sender, fake_slack, APPROVE_ACTION, request.id)

    def deployed(f: FakeSlack) -> Any:
        return [v for v in publishes(f, BOB) if SCALE_ACTION in json.dumps(v)]

    latest = fake_slack.wait_for(deployed, what="the deployment on the dashboard")[-1]
    _check_blocks(latest["blocks"], MAX_HOME_BLOCKS)
    assert request.id not in json.dumps(
        [e for e in elements(latest) if e["action_id"] == APPROVE_ACTION]
    )


def test_a_big_team_fits_in_100_blocks_with_pages() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    deps = [
        DeploymentRecord(
            id=f"d{i:03d}",
            name=f"dep-{i}",
            model=MU_MODEL,
            plan="mu",
            status="RUNNING",
            units=1,
            created_at=now,
            updated_at=now,
        )
        for i in range(40)
    ]

    class F:
        def __init__(self, i: int) -> None:
            self.deployment_id = f"d{i:03d}"
            self.currency = "USD"
            self.to_date = Decimal("1.25")
            self.total = Decimal("30")

    forecasts = {f"d{i:03d}": F(i) for i in range(40)}
    view = home_view([], deps, forecasts, page=0).to_dict()
    _check_blocks(view["blocks"], MAX_HOME_BLOCKS)
    assert "$50.00" in json.dumps(view) and "$1,200.00" in json.dumps(view)
    assert {e["value"] for e in elements(view) if e["action_id"] == HOME_PAGE_ACTION} == {"1"}
    last = home_view([], deps, forecasts, page=9).to_dict()  # past the end: the last page
    assert "dep-39" in json.dumps(last) and "dep-0*" not in json.dumps(last)
    assert {e["value"] for e in elements(last) if e["action_id"] == HOME_PAGE_ACTION} == {"1"}
