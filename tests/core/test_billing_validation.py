"""Every refusal of the billing engine says what was wrong and what to do instead."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from modeldeck.billing import (
    check_billing_change,
    check_context,
    estimate,
    price_overflow_call,
    validate_spec,
)
from modeldeck.catalog import Catalog, load_catalog
from modeldeck.domain import DeploySpec
from modeldeck.errors import (
    CatalogError,
    ConflictError,
    CurrencyMismatch,
    PriceNotListed,
    UserError,
    ValidationFailed,
)
from modeldeck.settings import PriceOverride, Settings

MAX = "qwen3-max-2025-09-23"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def ptu(**kw: Any) -> DeploySpec:
    base: dict[str, Any] = {"model": MAX, "plan": "ptu", "input_tpm": 20_000, "output_tpm": 2_000}
    return DeploySpec(**{**base, **kw})


def mu(**kw: Any) -> DeploySpec:
    return DeploySpec(**{"model": "qwen3-32b", "plan": "mu", "units": 1, **kw})


def refused(spec: DeploySpec, catalog: Catalog, kind: type[UserError] = ValidationFailed) -> str:
    with pytest.raises(kind) as info:
        estimate(spec, catalog)
    assert info.value.hint, "every refusal carries a hint saying what to do"
    return str(info.value)


@pytest.mark.parametrize(
    ("tpm", "nearest"),
    [(15_000, "10,000 or 20,000"), (5_000, "10,000"), (0, "10,000"), (-3, "10,000"),
     (25_001, "20,000 or 30,000")],
)  # fmt: skip
def test_input_tpm_not_whole_price_units_names_nearest_values(
    catalog: Catalog, tpm: int, nearest: str
) -> None:
    text = refused(ptu(input_tpm=tpm), catalog)
    assert "multiples of 10,000" in text and f"Nearest valid values: {nearest}." in text


def test_output_tpm_not_whole_price_units_names_nearest_values(catalog: Catalog) -> None:
    text = refused(ptu(output_tpm=2_500), catalog)
    assert "output_tpm=2,500" in text and "Nearest valid values: 2,000 or 3,000." in text
    text = refused(ptu(thinking_output_tpm=1_500, model="qwen-flash-2025-07-28"), catalog)
    assert "thinking_output_tpm=1,500" in text and "1,000 or 2,000" in text


def test_missing_input_tpm(catalog: Catalog) -> None:
    assert "needs input_tpm" in refused(ptu(input_tpm=None), catalog)


def test_unknown_model(catalog: Catalog) -> None:
    text = refused(ptu(model="qwen3-mx-2025-09-23"), catalog, CatalogError)
    assert "Did you mean qwen3-max-2025-09-23" in text and "`models`" in text


def test_plan_the_model_does_not_support(catalog: Catalog) -> None:
    text = refused(DeploySpec(model=MAX, plan="mu", units=1), catalog)
    assert "cannot be deployed on the mu plan; it supports ptu" in text
    assert "Use plan=ptu" in text


def test_mode_the_model_does_not_have(catalog: Catalog) -> None:
    text = refused(ptu(mode="thinking"), catalog)
    assert "has no thinking mode" in text and "mode=instruct" in text


def test_single_mode_model_gets_its_mode_when_none_is_given(catalog: Catalog) -> None:
    spec = validate_spec(mu(model="Qwen3-VL-8B-Thinking"), catalog)
    assert (spec.model, spec.mode) == ("qwen3-vl-8b-thinking", "thinking")
    # The grammar always fills mode=instruct; an MU model's mode is its model type anyway.
    spec = validate_spec(mu(model="qwen3-vl-8b-thinking", mode="instruct"), catalog)
    assert spec.mode == "thinking"
    assert estimate(spec, catalog).total == Decimal(20)


@pytest.mark.parametrize(
    ("spec", "allowed"),
    [(ptu(billing="monthly"), "ptu bills hourly or upfront"),
     (mu(billing="upfront"), "mu bills hourly or monthly")],
)  # fmt: skip
def test_billing_method_must_suit_the_plan(catalog: Catalog, spec: DeploySpec,
                                           allowed: str) -> None:  # fmt: skip
    text = refused(spec, catalog)
    assert "is not available on the" in text and allowed in text


def test_rate_limits_on_a_model_that_does_not_support_them(catalog: Catalog) -> None:
    text = refused(mu(rpm_limit=60, tpm_limit=10_000), catalog)
    assert "'Not supported' for qwen3-32b" in text and "Remove rpm_limit and tpm_limit" in text


def test_rate_limits_on_ptu(catalog: Catalog) -> None:
    text = refused(ptu(tpm_limit=1000), catalog)
    assert "MU deployments only" in text and "Remove tpm_limit" in text


def test_wrong_capacity_kind(catalog: Catalog) -> None:
    assert "Drop units" in refused(ptu(units=2), catalog)
    assert "Drop input_tpm" in refused(mu(input_tpm=10_000), catalog)
    assert "needs units" in refused(mu(units=None), catalog)
    assert "from 1 to 999" in refused(mu(units=1000), catalog)


def test_thinking_output_on_a_model_without_thinking(catalog: Catalog) -> None:
    assert "Drop thinking_output_tpm" in refused(ptu(thinking_output_tpm=1_000), catalog)


def test_durations(catalog: Catalog) -> None:
    text = refused(ptu(hours=Decimal(1), days=1), catalog)
    assert "Give one duration" in text and "hours=, days=, months= or duration=" in text
    assert "more than zero" in refused(ptu(hours=Decimal(0)), catalog)
    assert "more than zero" in refused(ptu(duration_seconds=-5), catalog)


def test_start_and_cancel_only_on_prepaid(catalog: Catalog) -> None:
    assert "billing=upfront" in refused(ptu(start=datetime(2026, 3, 1, 10)), catalog)
    assert "billing=upfront" in refused(ptu(cancel_after_seconds=3600), catalog)


def test_cancellation_after_the_first_30_days_is_refused(catalog: Catalog) -> None:
    spec = mu(billing="monthly", months=2, cancel_after_seconds=31 * 86_400)
    text = refused(spec, catalog)
    assert "first 30 days" in text and "cannot be terminated early" in text
    assert "at most 30d" in text


def test_cancellation_after_the_order_has_run_is_refused(catalog: Catalog) -> None:
    spec = ptu(billing="upfront", days=7, cancel_after_seconds=8 * 86_400)
    text = refused(spec, catalog)
    assert "already run its term" in text and "shorter than 7d" in text


def test_hours_per_day_range(catalog: Catalog) -> None:
    assert "at most 24" in refused(ptu(compare=True, hours_per_day=Decimal(25)), catalog)


def test_unlisted_price_never_zero(catalog: Catalog) -> None:
    spec = ptu(model="qwen-plus-2025-12-01", mode="thinking", billing="upfront", days=1)
    text = refused(spec, catalog, PriceNotListed)
    assert 'price = "output_daily"' in text and "never taken as $0" in text
    # Without output capacity the listed input price is all that is needed.
    ok = estimate(spec.model_copy(update={"output_tpm": 0}), catalog)
    assert ok.total == Decimal("6.72")


def test_overflow_unlisted_payg_price(catalog: Catalog) -> None:
    with pytest.raises(PriceNotListed) as info:
        price_overflow_call("deepseek-v3.2", "instruct", 10, 10, 0, catalog)
    assert 'plan = "payg"' in str(info.value)
    with pytest.raises(PriceNotListed):  # qwen3-vl-plus thinking output is "—"
        price_overflow_call("qwen3-vl-plus-2025-09-23", "thinking", 10, 10, 5, catalog)


def test_overflow_beyond_the_highest_tier(catalog: Catalog) -> None:
    with pytest.raises(CatalogError) as info:
        price_overflow_call(MAX, "instruct", 256_001, 1, 0, catalog)
    assert "highest tier ends at 256,000" in str(info.value) and info.value.hint


def test_overflow_token_counts(catalog: Catalog) -> None:
    with pytest.raises(ValidationFailed) as info:
        price_overflow_call(MAX, "instruct", 10, 5, 6, catalog)
    assert "includes the reasoning tokens" in str(info.value)
    with pytest.raises(ValidationFailed):
        price_overflow_call(MAX, "instruct", -1, 5, 0, catalog)


def test_context_beyond_the_model(catalog: Catalog) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_context(catalog.model_info("deepseek-v3.2"), max_context=128_000)
    assert "at most 64,000" in str(info.value) and "Use 64,000 or less" in str(info.value)
    with pytest.raises(ValidationFailed) as info:
        check_context(catalog.model_info("qwen3-32b"), max_context=65_536)
    assert "fixed at 131,072" in str(info.value) and "Drop the context setting" in str(info.value)
    with pytest.raises(ValidationFailed) as info:
        check_context(catalog.model_info(MAX), max_input=200_000)
    assert "at most 128,000 input tokens" in str(info.value)
    check_context(catalog.model_info(MAX), max_context=64_000, max_input=128_000)


def test_changing_the_billing_method_explains_unpublish_and_redeploy() -> None:
    with pytest.raises(ConflictError) as info:
        check_billing_change("hourly", "upfront")
    assert "cannot be changed after creation" in str(info.value)
    assert "unpublish it and deploy it again with billing=upfront" in str(info.value)
    check_billing_change("monthly", "monthly")


def test_mixing_currencies_without_a_rate_fails_and_with_one_converts() -> None:
    cny = PriceOverride(model=MAX, plan="ptu", price="output_hourly", amount=Decimal("3"),
                        currency="CNY")  # fmt: skip
    spec = ptu(hours=Decimal(10))
    with pytest.raises(CurrencyMismatch) as info:
        estimate(spec, load_catalog(Settings(catalog={"prices": [cny]})))
    assert "currency_rates" in str(info.value) and "CNY" in str(info.value)
    rated = Settings(catalog={"prices": [cny]}, currency_rates={"CNY": Decimal("0.125")})
    est = estimate(spec, load_catalog(rated))
    # 2 x 1.11 USD + 2 x 3 CNY x 0.125 USD/CNY = 2.97 USD per hour.
    assert est.currency == "USD" and est.total == Decimal("29.70")


def test_a_single_foreign_currency_stays_in_that_currency() -> None:
    overrides = [
        PriceOverride(model="qwen3-32b", plan="mu", price="unit_hourly", amount=Decimal("290"),
                      currency="CNY"),
    ]  # fmt: skip
    est = estimate(mu(hours=Decimal(2)), load_catalog(Settings(catalog={"prices": overrides})))
    assert est.currency == "CNY" and est.total == Decimal("580")
