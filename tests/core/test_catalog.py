"""The price catalog: built-in data, name resolution, rows, overrides and plugin catalogs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from modeldeck import plugins
from modeldeck.billing import estimate
from modeldeck.catalog import (
    Catalog,
    ModelInfo,
    PriceEntry,
    clear_catalog_cache,
    load_catalog,
    parse_tier,
)
from modeldeck.domain import DeploySpec
from modeldeck.errors import CatalogError, ConfigError, PriceNotListed
from modeldeck.hookspecs import hookimpl
from modeldeck.settings import PriceOverride, Settings

SEED_MODELS = {
    "qwen3-max-2025-09-23",
    "qwen-plus-2025-12-01",
    "qwen-flash-2025-07-28",
    "qwen3-vl-plus-2025-09-23",
    "deepseek-v3.2",
    "qwen3-14b",
    "qwen3-32b",
    "qwen3-vl-8b-instruct",
    "qwen3-vl-8b-thinking",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _settings(*overrides: dict[str, Any], rates: dict[str, str] | None = None) -> Settings:
    return Settings(
        catalog={"prices": [PriceOverride(**o) for o in overrides]},
        currency_rates={k: Decimal(v) for k, v in (rates or {}).items()},
    )


def test_every_seed_model_is_in_the_catalog(catalog: Catalog) -> None:
    assert set(catalog.models) == SEED_MODELS


@pytest.mark.parametrize(
    ("model", "mode", "plan", "price", "amount"),
    [
        ("qwen3-max-2025-09-23", "instruct", "ptu", "input_hourly", "1.11"),
        ("qwen3-max-2025-09-23", "instruct", "ptu", "output_daily", "5.40"),
        ("qwen-plus-2025-12-01", "thinking", "ptu", "input_daily", "3.36"),
        ("qwen-flash-2025-07-28", "thinking", "ptu", "output_hourly", "0.06"),
        ("qwen3-vl-plus-2025-09-23", "thinking", "ptu", "input_daily", "4.20"),
        ("deepseek-v3.2", "thinking", "ptu", "output_daily", "1.92"),
        ("qwen3-14b", "instruct", "mu", "unit_monthly", "18800"),
        ("qwen3-vl-8b-thinking", "thinking", "mu", "unit_hourly", "20"),
    ],
)
def test_seed_prices(catalog: Catalog, model: str, mode: str, plan: str, price: str,
                     amount: str) -> None:  # fmt: skip
    assert catalog.amount(model, mode, plan, price) == Decimal(amount)


def test_payg_tiers_and_thinking_prices(catalog: Catalog) -> None:
    tiers = catalog.tiers("qwen3-max-2025-09-23", "instruct")
    assert [(t.low, t.high) for t in tiers] == [(0, 32_000), (32_000, 128_000), (128_000, 256_000)]
    assert catalog.amount("qwen3-max-2025-09-23", "instruct", "payg", "output", "128k-256k") == 15
    assert catalog.amount("qwen-plus-2025-12-01", "thinking", "payg", "output", "0-256k") == 4
    assert catalog.amount("qwen3-vl-8b-thinking", "thinking", "payg", "output", "all") == Decimal(
        "2.1"
    )


def test_resolve_model_is_case_insensitive(catalog: Catalog) -> None:
    assert catalog.resolve_model("Qwen3-max-2025-09-23") == "qwen3-max-2025-09-23"
    assert catalog.resolve_model("  QWEN3-32B ") == "qwen3-32b"
    assert catalog.resolve_model("DeepSeek-v3.2") == "deepseek-v3.2"


def test_unknown_model_lists_close_matches_and_the_models_command(catalog: Catalog) -> None:
    with pytest.raises(CatalogError) as info:
        catalog.resolve_model("qwen3-max-2025-09")
    text = str(info.value)
    assert "Unknown model 'qwen3-max-2025-09'" in text
    assert "qwen3-max-2025-09-23" in text
    assert "`models`" in text


def test_model_info(catalog: Catalog) -> None:
    mu = catalog.model_info("Qwen3-VL-8B-Thinking")
    assert mu.plans == ["mu"] and mu.modes == ["thinking"]
    assert mu.spec == "MU1" and mu.max_context == 131_072 and mu.context_fixed
    assert mu.rate_limiting is False and mu.rate_limiting_text == "Not supported"
    ptu = catalog.model_info("deepseek-v3.2")
    assert ptu.plans == ["ptu"] and ptu.modes == ["instruct", "thinking"]
    assert (ptu.max_context, ptu.max_input) == (64_000, 64_000)
    # The merged cells of the seed table read as the value above.
    assert catalog.model_info("qwen-flash-2025-07-28").max_input == 128_000


def test_every_mu_model_has_rate_limiting_not_supported(catalog: Catalog) -> None:
    for name in catalog.models:
        info = catalog.model_info(name)
        if "mu" in info.plans:
            assert info.rate_limiting is False, name


def test_rows_are_json_able_with_provenance(catalog: Catalog) -> None:
    rows = catalog.rows()
    keys = {"model", "mode", "plan", "billing", "price", "tier", "amount", "listed", "unit",
            "currency", "source", "as_of", "max_context", "max_input", "context_fixed",
            "limits_source", "limits_as_of"}  # fmt: skip
    assert all(set(row) == keys for row in rows)
    assert all(row["currency"] == "USD" and row["source"] and row["as_of"] for row in rows)
    first = rows[0]
    assert first["model"] == "qwen3-max-2025-09-23" and first["amount"] == "1.11"
    assert first["unit"] == "per 10k input TPM·hour" and first["billing"] == "hourly"
    unlisted = [r for r in rows if not r["listed"]]
    assert unlisted and all(r["amount"] is None for r in unlisted)
    assert {("qwen-plus-2025-12-01", "thinking", "output_hourly")} <= {
        (r["model"], r["mode"], r["price"]) for r in unlisted
    }
    assert all(isinstance(r["amount"], str) for r in rows if r["listed"])


def test_unlisted_price_is_an_error_not_zero(catalog: Catalog) -> None:
    with pytest.raises(PriceNotListed) as info:
        catalog.amount("deepseek-v3.2", "instruct", "payg", "input", "all")
    assert "modeldeck.toml" in str(info.value)


def test_parse_tier() -> None:
    assert parse_tier("all").high is None
    assert (parse_tier("32K-128k").low, parse_tier("32K-128k").high) == (32_000, 128_000)
    assert parse_tier("0-1m").high == 1_000_000
    for bad in ("32k", "128k-32k", "a-b"):
        with pytest.raises(ConfigError):
            parse_tier(bad)


def test_load_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()
    settings = _settings()
    assert load_catalog(settings) is load_catalog(settings)


# ------------------------------------------------------------------ user overrides


def test_override_replaces_a_price_with_its_source() -> None:
    settings = _settings(
        {"model": "Qwen3-Max-2025-09-23", "plan": "ptu", "price": "input_hourly",
         "amount": "1.00", "source": "contract 2026-04", "as_of": "2026-04-01"},
    )  # fmt: skip
    catalog = load_catalog(settings)
    entry = catalog.price("qwen3-max-2025-09-23", "instruct", "ptu", "input_hourly")
    assert entry.amount == Decimal("1.00") and entry.source == "contract 2026-04"
    spec = DeploySpec(model="qwen3-max-2025-09-23", plan="ptu", input_tpm=20_000,
                      output_tpm=2_000, hours=Decimal(10))  # fmt: skip
    assert estimate(spec, catalog).total == Decimal("29.00")  # (2 x 1.00 + 2 x 0.45) x 10
    assert load_catalog().amount("qwen3-max-2025-09-23", "instruct", "ptu", "input_hourly") == (
        Decimal("1.11")
    )


def test_override_fills_an_unlisted_price() -> None:
    """Example 8's fix: set the thinking output price and the estimate works."""
    settings = _settings(
        {"model": "qwen-plus-2025-12-01", "plan": "ptu", "mode": "thinking",
         "price": "output_hourly", "amount": "0.20"},
    )  # fmt: skip
    spec = DeploySpec(model="qwen-plus-2025-12-01", plan="ptu", mode="thinking",
                      input_tpm=10_000, output_tpm=1_000, hours=Decimal(1))  # fmt: skip
    assert estimate(spec, load_catalog(settings)).total == Decimal("0.48")


def test_override_adds_payg_prices_for_deepseek() -> None:
    settings = _settings(
        {"model": "deepseek-v3.2", "plan": "payg", "price": "input", "amount": "0.3"},
        {"model": "deepseek-v3.2", "plan": "payg", "price": "output", "amount": "0.5"},
    )
    catalog = load_catalog(settings)
    assert catalog.amount("deepseek-v3.2", "instruct", "payg", "input", "all") == Decimal("0.3")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"model": "qwen3-maxx", "plan": "ptu", "price": "input_hourly", "amount": "1"},
         "unknown model 'qwen3-maxx'"),
        ({"model": "qwen3-32b", "plan": "ptu", "price": "input_hourly", "amount": "1"},
         "qwen3-32b is not offered on the ptu plan"),
        ({"model": "qwen3-32b", "plan": "mu", "price": "hourly", "amount": "1"},
         "Allowed mu prices: unit_hourly, unit_monthly"),
        ({"model": "qwen3-max-2025-09-23", "plan": "ptu", "mode": "thinking",
          "price": "input_hourly", "amount": "1"}, "has no 'thinking' mode"),
        ({"model": "qwen3-max-2025-09-23", "plan": "payg", "price": "input", "amount": "1"},
         "has several pay-as-you-go tiers; say which"),
        ({"model": "qwen3-max-2025-09-23", "plan": "payg", "price": "input", "amount": "1",
          "tier": "0-64k"}, "overlaps the tiers"),
        ({"model": "qwen3-32b", "plan": "mu", "price": "unit_hourly", "amount": "-1"},
         "must be zero or more"),
        ({"model": "qwen3-32b", "plan": "mu", "price": "unit_hourly", "amount": "1",
          "tier": "all"}, "only payg prices have a tier"),
    ],
)  # fmt: skip
def test_invalid_overrides_fail_clearly(override: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_catalog(_settings(override))
    assert expected in str(info.value)
    assert "modeldeck.toml [[catalog.prices]] entry 1" in str(info.value)


def test_two_disagreeing_overrides_fail() -> None:
    one = {"model": "qwen3-32b", "plan": "mu", "price": "unit_hourly", "amount": "30"}
    two = {**one, "amount": "31"}
    with pytest.raises(ConfigError) as info:
        load_catalog(_settings(one, two))
    assert "entries 1 and 2" in str(info.value) and "Keep one" in str(info.value)


# ------------------------------------------------------------------ plugin catalogs


class _Plugin:
    def __init__(self, entries: list[Any], source: str) -> None:
        self.entries, self.source = entries, source

    @hookimpl
    def register_catalogs(self, register: Any) -> None:
        register(self.entries, source=self.source)


def _install(*plugin_objects: _Plugin) -> None:
    pm = plugins.get_plugin_manager()
    for number, plugin in enumerate(plugin_objects):
        pm.register(plugin, name=f"test-catalog-{number}")
    clear_catalog_cache()


def test_plugin_adds_a_model_with_prices() -> None:
    info = ModelInfo(name="acme-7b", plans=["mu"], modes=["instruct"], max_context=32_768,
                     spec="MU1", rate_limiting=True)  # fmt: skip
    price = {"model": "acme-7b", "mode": "instruct", "plan": "mu", "price": "unit_hourly",
             "amount": Decimal("10")}  # fmt: skip
    _install(_Plugin([info, price], "acme plugin"))
    catalog = load_catalog()
    assert catalog.resolve_model("ACME-7B") == "acme-7b"
    row = next(r for r in catalog.rows() if r["model"] == "acme-7b")
    assert row["source"] == "acme plugin" and row["amount"] == "10"
    spec = DeploySpec(model="acme-7b", plan="mu", units=1, rpm_limit=60, hours=Decimal(2))
    assert estimate(spec, catalog).total == Decimal("20")


def test_plugin_repeating_a_builtin_price_identically_is_fine() -> None:
    same = PriceEntry(model="qwen3-32b", mode="instruct", plan="mu", price="unit_hourly",
                      amount=Decimal("40.00"))  # fmt: skip
    _install(_Plugin([same], "mirror plugin"))
    assert load_catalog().amount("qwen3-32b", "instruct", "mu", "unit_hourly") == 40


def test_plugin_conflicting_with_the_builtin_catalog_names_both_sources() -> None:
    other = PriceEntry(model="qwen3-32b", mode="instruct", plan="mu", price="unit_hourly",
                       amount=Decimal("35"))  # fmt: skip
    _install(_Plugin([other], "cheap plugin"))
    with pytest.raises(ConfigError) as info:
        load_catalog()
    text = str(info.value)
    assert "cheap plugin" in text and "built-in catalog" in text
    assert "35 USD" in text and "40 USD" in text
    assert "MODELDECK_LOAD_PLUGINS" in text


def test_two_plugins_describing_a_model_differently_conflict() -> None:
    a = ModelInfo(name="acme-7b", plans=["mu"], modes=["instruct"], max_context=32_768)
    b = ModelInfo(name="ACME-7b", plans=["mu"], modes=["instruct"], max_context=65_536)
    _install(_Plugin([a], "plugin A"), _Plugin([b], "plugin B"))
    with pytest.raises(ConfigError) as info:
        load_catalog()
    assert "plugin A" in str(info.value) and "plugin B" in str(info.value)


def test_plugin_price_for_an_unknown_model_fails() -> None:
    orphan = {"model": "ghost-1", "mode": "instruct", "plan": "mu", "price": "unit_hourly",
              "amount": Decimal("1")}  # fmt: skip
    _install(_Plugin([orphan], "ghost plugin"))
    with pytest.raises(ConfigError) as info:
        load_catalog()
    assert "ghost plugin" in str(info.value) and "no source describes that model" in str(info.value)


def test_plugin_registering_garbage_fails_clearly() -> None:
    _install(_Plugin([42], "odd plugin"))
    with pytest.raises(ConfigError) as info:
        load_catalog()
    assert "odd plugin registered a catalog entry of type int" in str(info.value)


def test_rows_carry_the_models_limits_from_the_seed(catalog: Catalog) -> None:
    rows = {r["model"]: r for r in catalog.rows()}
    ptu = rows["deepseek-v3.2"]
    assert (ptu["max_context"], ptu["max_input"], ptu["context_fixed"]) == (64_000, 64_000, False)
    assert "Model Deployment Overview" in ptu["limits_source"] and ptu["limits_as_of"]
    mu = rows["qwen3-32b"]
    # The seed gives MU models a fixed context and no max input: unknown, never guessed.
    assert (mu["max_context"], mu["max_input"], mu["context_fixed"]) == (131_072, None, True)
