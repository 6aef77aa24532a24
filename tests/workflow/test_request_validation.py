"""Validation at request time: what Model Studio's API cannot buy is refused before any approval,
and every waiting or changing status counts as a change in flight."""

from __future__ import annotations

import pytest

from modeldeck.domain import DeploymentStatus, DeploySpec, in_flight
from modeldeck.errors import ValidationFailed
from tests.workflow.wfhelpers import MakeDeck

MONTHLY = DeploySpec(model="qwen3-32b", plan="mu", units=1, billing="monthly", months=1)


def test_a_monthly_mu_package_is_refused_at_request_time_with_the_console_explanation(
    make_deck: MakeDeck,
) -> None:
    deck = make_deck()
    with pytest.raises(ValidationFailed) as info:
        deck.request_deploy(MONTHLY, deck.resolve_actor("jupyter", "alice"))
    assert "bought in the Model Studio console" in str(info.value)
    assert "billing=hourly" in str(info.value)
    assert deck.list_requests() == []  # nothing stored, nothing to approve


def test_a_monthly_mu_package_is_requested_when_the_account_prepays_through_the_api(
    make_deck: MakeDeck,
) -> None:
    deck = make_deck(provider={"mu_prepay_via_api": True})
    req = deck.request_deploy(MONTHLY, deck.resolve_actor("jupyter", "alice"))
    assert req.policy.approvers_required == 2  # a prepaid order: two approvers


@pytest.mark.parametrize(
    "status",
    [
        "PENDING",
        "DEPLOYING",
        "UPDATING",
        "WAIT_PRE_PAID_BILLING_TO_DEPLOYING",
        "WAIT_TO_DEPLOY",
        "WAIT_PRE_PAID_BILLING_TO_SCALING",
        "SCALING",
        "STOPPING",
        "SUSPENDING",
        "STARTING",
        "RECOVERING",
        "DELETING",
        "OFFLINING",
        "ARREARS_RECOVERING",
    ],
)
def test_every_waiting_or_changing_status_is_in_flight(status: str) -> None:
    assert DeploymentStatus(status) == status
    assert in_flight(status)


@pytest.mark.parametrize("status", ["RUNNING", "STOPPED", "SUSPENDED", "DELETED", "FAILED"])
def test_settled_statuses_are_not_in_flight(status: str) -> None:
    assert not in_flight(status)


def test_a_thinking_quota_is_refused_at_request_time_on_reservations(
    make_deck: MakeDeck,
) -> None:
    """The reservations API takes no thinking output TPM: say so before anyone approves."""
    deck = make_deck()
    spec = DeploySpec(
        model="qwen-plus-2025-12-01",
        plan="ptu",
        mode="thinking",
        input_tpm=10000,
        output_tpm=0,
        thinking_output_tpm=1000,
    )
    with pytest.raises(ValidationFailed, match="no separate thinking output TPM"):
        deck.request_deploy(spec, deck.resolve_actor("cli", "alice"))
    assert deck.list_requests() == []
