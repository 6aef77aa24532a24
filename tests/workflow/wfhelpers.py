"""Shared names for the workflow tests: the team's principals and what the sandbox holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modeldeck.deck import Deck
from modeldeck.domain import Estimate
from modeldeck.sandbox.testing import RunningSandbox

# The team: one person per role, a second approver, and someone who both deploys and approves.
PRINCIPALS: list[dict[str, Any]] = [
    {"name": "alice", "slack_user": "U0ALICE", "jupyter_user": "alice", "roles": ["deployer"]},
    {"name": "bob", "slack_user": "U0BOB", "jupyter_user": "bob", "roles": ["approver"]},
    {"name": "carol", "slack_user": "U0CAROL", "roles": ["approver"]},
    {"name": "dave", "jupyter_user": "dave", "roles": ["admin"]},
    {"name": "victor", "slack_user": "U0VICTOR", "jupyter_user": "victor", "roles": ["viewer"]},
    {"name": "pat", "jupyter_user": "pat", "roles": ["deployer", "approver"]},
]

MakeDeck = Callable[..., Deck]  # the make_deck fixture: settings overrides -> a new deck


def sandbox_deployments(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    """What Model Studio (the sandbox) holds, asked over its own API."""
    resp = sandbox.http.get("/api/v1/deployments", params={"page_size": 100})
    resp.raise_for_status()
    return list(resp.json()["output"]["deployments"])


def daily_estimate(per_day: str, billing: str = "hourly") -> Estimate:
    """An estimate that costs `per_day` a day (the figure the policy thresholds use)."""
    return Estimate(
        model="qwen3-32b",
        plan="mu",
        mode="instruct",
        billing=billing,
        total=per_day,
        period="1 day",
        per_day=per_day,
    )
