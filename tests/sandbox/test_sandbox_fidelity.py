"""Shapes as the real service answers: `plan=` on list, the deployable-models shape (`template_id`
is the deploy spec, PTU possibly `ptu_v2`), fractional `gmt_*` seconds, the `ptu_v2` overflow
answer, and the embedded sandbox's generation from settings."""

from __future__ import annotations

import re
from pathlib import Path

from modeldeck.sandbox import SandboxConfig
from modeldeck.sandbox.clock import gmt
from modeldeck.sandbox.testing import RunningSandbox
from tests.sandbox.sbhelpers import MU_BODY, PTU_RESERVATION_BODY, MakeSandbox, ok


def test_plan_filters_the_list(sb: RunningSandbox) -> None:
    mu = ok(sb, "POST", "/deployments", json=MU_BODY)["deployed_model"]
    ptu = ok(sb, "POST", "/deployments", json=PTU_RESERVATION_BODY)["deployed_model"]
    listed = ok(sb, "GET", "/deployments?plan=ptu")
    assert listed["total"] == 1 and [d["deployed_model"] for d in listed["deployments"]] == [ptu]
    assert [d["deployed_model"] for d in ok(sb, "GET", "/deployments?plan=mu")["deployments"]] == [
        mu
    ]
    assert ok(sb, "GET", "/deployments")["total"] == 2


def test_deployable_models_shape(make_sandbox: MakeSandbox) -> None:
    models = ok(make_sandbox(), "GET", "/deployments/models?page_size=100")["models"]
    by_name = {m["model_name"]: m for m in models}
    (mu_plan,) = by_name["qwen3-32b"]["plans"]
    assert mu_plan["plan"] == "mu"
    assert [t["template_id"] for t in mu_plan["templates"]] == ["MU1"]  # the deploy spec
    assert [p["plan"] for p in by_name["deepseek-v3.2"]["plans"]] == ["ptu"]
    v2 = ok(make_sandbox(ptu_v2_answers=True), "GET", "/deployments/models?page_size=100")
    v2_names = {m["model_name"]: m for m in v2["models"]}
    assert [p["plan"] for p in v2_names["deepseek-v3.2"]["plans"]] == ["ptu_v2"]


def test_the_ptu_v2_overflow_answer(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(ptu_v2_answers=True)
    code = ok(sb, "POST", "/deployments", json=PTU_RESERVATION_BODY)["deployed_model"]
    sb.sandbox.advance(60)
    answer = ok(
        sb,
        "PUT",
        f"/deployments/{code}/update-overflowstrategy",
        json={"overflow_strategy": "disable"},
    )
    assert answer["plan"] == "ptu_v2" and answer["overflow_strategy"] == "disable"
    assert answer["ptu_capacity"] == {"input_tpm_quota": 10, "output_tpm_quota": 1}
    # The list still finds it as a PTU.
    assert ok(sb, "GET", "/deployments?plan=ptu_v2")["total"] == 1


def test_gmt_times_are_beijing_without_zone_and_sometimes_fractional() -> None:
    whole = 1750129238.0  # 2025-06-17T11:00:38 in Beijing
    assert gmt(whole) == "2025-06-17T11:00:38"
    assert gmt(whole + 0.68) == "2025-06-17T11:00:38.68"
    assert gmt(whole + 0.5) == "2025-06-17T11:00:38.5"


def test_answers_carry_fractional_seconds(make_sandbox: MakeSandbox) -> None:
    from datetime import datetime

    from modeldeck.timeutil import BEIJING

    start = datetime(2025, 6, 17, 11, 0, 38, 680000, tzinfo=BEIJING)
    sb = make_sandbox(start_time=start, clock_speed=1e-6)  # the clock all but stands still
    created = ok(sb, "POST", "/deployments", json=MU_BODY)
    assert created["gmt_create"] == "2025-06-17T11:00:38.68"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,2})?", created["gmt_modified"])


def test_generation_and_prepay_come_from_settings(tmp_path: Path) -> None:
    from modeldeck.settings import Settings

    settings = Settings(
        data_dir=tmp_path, sandbox={"api_generation": "legacy", "mu_prepay_accepted": True}
    )
    config = SandboxConfig.from_settings(settings)
    assert (config.api_generation, config.ktpm, config.mu_prepay_accepted) == (
        "legacy",
        False,
        True,
    )
    assert SandboxConfig().api_generation == "reservations" and SandboxConfig().ktpm
    # Unless set for the sandbox, the embedded one follows the provider's account settings.
    follows = Settings(
        data_dir=tmp_path, provider={"api_generation": "legacy", "mu_prepay_via_api": True}
    )
    config = SandboxConfig.from_settings(follows)
    assert (config.api_generation, config.mu_prepay_accepted) == ("legacy", True)
    both = Settings(
        data_dir=tmp_path,
        provider={"api_generation": "legacy"},
        sandbox={"api_generation": "reservations"},
    )
    assert SandboxConfig.from_settings(both).api_generation == "reservations"


def test_a_console_purchase_is_a_prepaid_deployment_the_api_would_refuse(
    sb: RunningSandbox,
) -> None:
    """The console control buys what the API does not sell (an MU monthly package), so the
    client's import of console-created prepaid deployments can be tested."""
    body = {**MU_BODY, "billing_method": "PRE_PAY", "pre_paid_info": {"duration": 30}}
    refused = sb.http.post("/api/v1/deployments", json=body)
    assert refused.status_code == 400
    bought = sb.http.post("/_sandbox/console/deployments", json=body)
    assert bought.status_code == 200, bought.text
    view = bought.json()["output"]
    assert view["charge_type"] == "pre_paid" and view["billing_method"] == "PRE_PAY"
    assert view["pre_paid_gmt_expired"]
    listed = ok(sb, "GET", "/deployments")["deployments"]
    assert [d["deployed_model"] for d in listed] == [view["deployed_model"]]
