"""The panel's HTML: totals rounded half-up to cents, every value escaped, any status shown."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from modeldeck.domain import (
    DeploymentRecord,
    DeploySpec,
    Estimate,
    EstimateLine,
    PolicyDecision,
    RequestRecord,
    RequestStatus,
)
from modeldeck.errors import ModeldeckRuntimeError, ValidationFailed
from modeldeck_jupyter.html import DOLLAR, visible_text
from modeldeck_jupyter.render import deployments_html, error_html, estimate_html, request_html

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def _estimate(total: str, model: str = "qwen3-max-2025-09-23") -> Estimate:
    return Estimate(
        model=model,
        plan="ptu",
        mode="instruct",
        billing="hourly",
        total=Decimal(total),
        period="10 hours",
        lines=[
            EstimateLine(
                description="input capacity",
                amount=Decimal("22.2"),
                quantity=Decimal("20000"),
                unit="TPM",
                rate=Decimal("1.11"),
                rate_unit="USD per 10k TPM·hour",
                periods=Decimal("10"),
                period_unit="hours",
            )
        ],
        per_hour=Decimal("3.12"),
    )


def test_total_is_rounded_half_up_to_cents_and_lines_are_listed() -> None:
    html = visible_text(estimate_html(_estimate("31.205")))
    assert "$31.21" in html
    assert "for 10 hours" in html
    assert "20,000 TPM × 1.11 USD per 10k TPM·hour × 10 hours" in html
    assert "$22.20" in html
    assert "$3.12 per hour" in html


def test_a_rate_unit_without_currency_gets_the_amount_formatted() -> None:
    line = EstimateLine(
        description="model units", amount=Decimal("80"), rate=Decimal("40"), rate_unit="per hour"
    )
    html = estimate_html(_estimate("80").model_copy(update={"lines": [line]}))
    assert "$40.00 per hour" in visible_text(html)


def test_values_are_escaped() -> None:
    html = estimate_html(_estimate("1", model="<script>alert(1)</script>"))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_user_error_shows_message_and_hint_in_red_without_traceback() -> None:
    exc = ValidationFailed("Input TPM must be a multiple of 10,000.", hint="Try 10,000 or 20,000.")
    html = error_html(exc)
    assert "modeldeck-error" in html
    assert "Input TPM must be a multiple of 10,000. Try 10,000 or 20,000." in html
    assert "Traceback" not in html


def test_runtime_and_unexpected_errors_say_what_happened() -> None:
    assert "Retrying later may help" in error_html(ModeldeckRuntimeError("provider down"))
    assert "Unexpected error (KeyError)" in error_html(KeyError("x"))


def _deployment(status: str, created: datetime, name: str) -> DeploymentRecord:
    return DeploymentRecord(
        id=name,
        name=name,
        deployed_model=f"{name}-code",
        model="qwen3-32b",
        plan="mu",
        billing="hourly",
        status=status,
        units=2,
        created_at=created,
        updated_at=created,
    )


def test_deployments_table_newest_first_with_unknown_status_kept() -> None:
    older = _deployment("RUNNING", NOW, "older")
    newer = _deployment("SOMETHING_NEW", NOW.replace(hour=3), "newer")
    html = deployments_html([older, newer])
    assert html.index("newer") < html.index("older")
    assert "SOMETHING_NEW" in html
    assert "2 unit(s)" in html
    assert "2026-03-01 11:00:00 (UTC+8)" in html  # 03:00 UTC shown in Beijing time


def test_empty_deployments_table_says_so() -> None:
    assert "No deployments yet." in deployments_html([])


def test_request_outcome_names_id_status_and_policy() -> None:
    request = RequestRecord(
        id="r-42",
        kind="deploy",
        status=RequestStatus.PENDING,
        requester="alice",
        surface="jupyter",
        deploy=DeploySpec(model="qwen3-32b", plan="mu", units=2),
        policy=PolicyDecision(auto_approve=False, approvers_required=2, rule="above $500/day"),
        created_at=NOW,
    )
    html = request_html(request)
    assert "r-42" in html
    assert "waiting for approval" in html
    assert "2 approvals" in html
    assert "above $500/day" in visible_text(html)


def test_money_is_never_read_as_latex() -> None:
    """Issue 14: "$3.12 per hour · $74.88 per day" between two `$` is typeset as math. Every `$`
    is wrapped so MathJax never pairs them, inside an element MathJax is told to ignore."""
    html = estimate_html(_estimate("31.205"))
    assert "$" not in html.replace(str(DOLLAR), "")
    assert "tex2jax_ignore" in html and "mathjax_ignore" in html
    assert visible_text(html).count("$") == html.count(str(DOLLAR)) >= 3
