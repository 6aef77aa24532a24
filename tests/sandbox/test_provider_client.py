"""The client's own contract: create bodies from DeploySpec, construction from settings, the
plugin-registered provider, local validation, and the API key kept out of every text."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import httpx
import pytest

from modeldeck.domain import DeploySpec
from modeldeck.errors import ConfigError, ValidationFailed
from modeldeck.provider import (
    InvalidParameterError,
    ModelStudioClient,
    ProviderConnectionError,
    ServerError,
    build_create_body,
    compatible_mode_url,
    get_provider,
    make_client,
)
from modeldeck.settings import Settings
from tests.sandbox.sbhelpers import MakeSandbox

SECRET = "sk-live-9f8e7d6c5b4a"


def spec(**values: Any) -> DeploySpec:
    return DeploySpec.model_validate(values)


def test_mu_hourly_body() -> None:
    body = build_create_body(
        spec(model="qwen3-32b", plan="mu", units=2, rpm_limit=100, tpm_limit=5000, name="team")
    )
    assert body == {
        "model_name": "qwen3-32b",
        "plan": "mu",
        "name": "team",
        "capacity": 2,
        "deploy_spec": "MU1",
        "billing_method": "POST_PAY",
        "rpm_limit": 100,
        "tpm_limit": 5000,
    }


def test_mu_monthly_is_bought_in_the_console_unless_the_api_accepts_prepay() -> None:
    monthly = spec(model="qwen3-vl-8b-instruct", plan="mu", units=1, billing="monthly", months=2)
    with pytest.raises(ValidationFailed, match="bought in the Model Studio console") as info:
        build_create_body(monthly)
    assert "billing=hourly" in (info.value.hint or "")
    body = build_create_body(monthly, mu_prepay_via_api=True)
    assert body["billing_method"] == "PRE_PAY" and body["charge_type"] == "pre_paid"
    assert body["pre_paid_info"] == {"duration": 60, "auto_renewal": False}


def test_ptu_hourly_body_is_post_paid_fast_tier_without_capacity() -> None:
    body = build_create_body(
        spec(
            model="qwen3-max-2025-09-23", plan="ptu", input_tpm=20000, output_tpm=2000, suffix="a1"
        )
    )
    assert body == {
        "model_name": "qwen3-max-2025-09-23",
        "plan": "ptu",
        "suffix": "a1",
        "charge_type": "post_paid",
        "service_tier": "ptu_fast",
        "ptu_capacity": {"input_tpm": 20000, "output_tpm": 2000},
    }


def test_ptu_upfront_body_is_pre_paid_with_its_renewal() -> None:
    body = build_create_body(
        spec(
            model="qwen-plus-2025-12-01",
            plan="ptu",
            mode="thinking",
            billing="upfront",
            input_tpm=10000,
            output_tpm=1000,
            days=7,
            auto_renewal=True,
        ),
        service_tier="ptu_default",
    )
    assert "enable_thinking" not in body, "enable_thinking is an MU option, never sent for PTU"
    assert "capacity" not in body
    assert body["ptu_capacity"] == {"input_tpm": 10000, "output_tpm": 1000}
    assert body["charge_type"] == "pre_paid" and body["service_tier"] == "ptu_default"
    assert body["pre_paid_info"] == {
        "duration": 7,
        "auto_renewal": True,
        "auto_renewal_duration": 7,
        "auto_renewal_cycle": "Day",
    }


def test_ptu_default_tier_is_prepaid_only() -> None:
    hourly = spec(model="qwen3-max-2025-09-23", plan="ptu", input_tpm=10000, output_tpm=1000)
    with pytest.raises(ValidationFailed, match="prepaid \\(upfront\\) only"):
        build_create_body(hourly, service_tier="ptu_default")
    with pytest.raises(ValidationFailed, match="Unknown PTU service tier"):
        build_create_body(hourly, service_tier="gold")


def test_mu_thinking_body_enables_thinking() -> None:
    body = build_create_body(
        spec(model="qwen3-vl-8b-thinking", plan="mu", mode="thinking", units=1)
    )
    assert body["enable_thinking"] is True and body["billing_method"] == "POST_PAY"


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ({"model": "qwen3-32b", "plan": "mu"}, "needs units"),
        ({"model": "qwen3-32b", "plan": "mu", "units": 1, "billing": "upfront"}, "not upfront"),
        ({"model": "qwen3-max-2025-09-23", "plan": "ptu", "input_tpm": 10000}, "output_tpm"),
        (
            {
                "model": "qwen3-max-2025-09-23",
                "plan": "ptu",
                "input_tpm": 1,
                "output_tpm": 1,
                "billing": "upfront",
            },
            "needs days",
        ),
        (
            {
                "model": "qwen3-max-2025-09-23",
                "plan": "ptu",
                "input_tpm": 1,
                "output_tpm": 1,
                "billing": "monthly",
            },
            "not monthly",
        ),
        (
            {
                "model": "qwen3-max-2025-09-23",
                "plan": "ptu",
                "input_tpm": 1,
                "output_tpm": 1,
                "rpm_limit": 5,
            },
            "mu\\) only",
        ),
    ],
)
def test_incomplete_specs_are_clear_errors(values: dict[str, Any], text: str) -> None:
    with pytest.raises(ValidationFailed, match=text):
        build_create_body(spec(**values))


def test_every_built_body_is_accepted_by_the_sandbox(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(rate_limit_models=["qwen3-32b"])
    specs = [
        spec(model="qwen3-32b", plan="mu", units=2, rpm_limit=10, tpm_limit=1000),
        spec(model="qwen3-vl-8b-thinking", plan="mu", mode="thinking", units=1),
        spec(model="qwen3-max-2025-09-23", plan="ptu", input_tpm=20000, output_tpm=2000),
        spec(
            model="qwen-plus-2025-12-01",
            plan="ptu",
            mode="thinking",
            billing="upfront",
            input_tpm=10000,
            output_tpm=1000,
            days=7,
        ),
        spec(
            model="deepseek-v3.2",
            plan="ptu",
            input_tpm=10000,
            output_tpm=1000,
            suffix="x1",
            name="team-ds",
        ),
    ]
    with sb.client() as client:
        for item in specs:
            info = client.create_deployment(build_create_body(item))
            assert info.model_name == item.model and info.plan == item.plan
            if item.plan == "mu":
                assert info.capacity == item.units
            else:
                # Reservations: the capacity is in force once the create's operation succeeded.
                running = sb.wait_for_status(client, info.deployed_model, "RUNNING")
                assert running is not None and running.ptu_capacity is not None
                assert running.ptu_capacity.input_tpm == item.input_tpm
            if item.billing != "hourly":
                assert info.charge_type == "pre_paid" and info.pre_paid_gmt_expired is not None
            if item.mode == "thinking" and item.plan == "mu":
                assert info.enable_thinking is True
        assert client.get_deployment("deepseek-v3.2-x1").name == "team-ds"
        bad_mu = spec(model="qwen3-32b", plan="mu", units=2000)
        with pytest.raises(InvalidParameterError, match="Invalid capacity"):
            client.create_deployment(build_create_body(bad_mu))


def test_make_client_defaults_to_the_embedded_sandbox() -> None:
    client = make_client(Settings())
    assert client.base_url == "http://127.0.0.1:8760/api/v1"
    assert client.compatible_base_url == "http://127.0.0.1:8760/compatible-mode/v1"
    client.close()


def test_make_client_reads_the_dashscope_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "https://dashscope-intl.aliyuncs.com/api/v1")
    monkeypatch.setenv("DASHSCOPE_API_KEY", SECRET)
    monkeypatch.setenv("DASHSCOPE_WORKSPACE", "llm-ws1")
    with make_client(Settings()) as client:
        assert client.base_url == "https://dashscope-intl.aliyuncs.com/api/v1"
        assert client.workspace == "llm-ws1"
        assert SECRET not in repr(client)


def test_a_real_endpoint_without_a_key_is_a_config_error() -> None:
    settings = Settings(provider={"base_url": "https://dashscope.aliyuncs.com/api/v1"})
    with pytest.raises(ConfigError, match="needs an API key") as info:
        make_client(settings)
    assert "DASHSCOPE_API_KEY" in str(info.value)


def test_the_provider_comes_from_the_plugin_registry(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox()
    host, port = sb.url.removeprefix("http://").split(":")
    provider = get_provider(Settings(sandbox={"host": host, "port": int(port)}))
    try:
        assert isinstance(provider, ModelStudioClient)
        assert provider.list_deployments().total == 0
    finally:
        provider.close()
    with pytest.raises(ConfigError, match="No provider named 'nope'"):
        get_provider(Settings(), kind="nope")


def test_local_validation_never_calls_the_network() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    with ModelStudioClient("https://x/api/v1", "k", transport=httpx.MockTransport(refuse)) as c:
        with pytest.raises(ValidationFailed, match="exactly one of capacity"):
            c.scale_deployment("m", capacity=1, ptu_capacity={"input_tpm": 1, "output_tpm": 1})
        with pytest.raises(ValidationFailed, match="exactly one of capacity"):
            c.scale_deployment("m")
        with pytest.raises(ValidationFailed, match="rpm_limit or tpm_limit"):
            c.update_limits("m")
        with pytest.raises(ValidationFailed, match="page_size is 1 to 200"):
            c.list_deployments(page_size=500)
        with pytest.raises(ValidationFailed, match="Model Code"):
            c.get_deployment(" ")
    with pytest.raises(ValidationFailed, match="not an http"):
        ModelStudioClient("dashscope.aliyuncs.com", "k")


def test_codes_are_path_encoded() -> None:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"output": {"deployed_model": "a/b", "status": "RUNNING"}})

    with ModelStudioClient("https://x/api/v1", "k", transport=httpx.MockTransport(record)) as c:
        c.get_deployment("a/b")
    assert seen == ["/api/v1/deployments/a%2Fb"]


def test_compatible_mode_url() -> None:
    assert compatible_mode_url("https://dashscope.aliyuncs.com/api/v1/") == (
        "https://dashscope.aliyuncs.com/compatible-mode/v1"
    )


def test_the_key_never_shows_in_repr_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    def echo_key(request: httpx.Request) -> httpx.Response:
        # A hostile or buggy server that echoes the Authorization header back.
        return httpx.Response(
            503,
            json={"code": "InternalError", "message": f"bad {request.headers['authorization']}"},
        )

    caplog.set_level(logging.DEBUG)
    client = ModelStudioClient(
        "https://x/api/v1",
        SECRET,
        transport=httpx.MockTransport(echo_key),
        max_retries=1,
        backoff_base=0.001,
    )
    assert SECRET not in repr(client) and "***" in repr(client)
    with client, pytest.raises(ServerError) as info:
        client.list_deployments()
    err = info.value
    for text in (str(err), repr(err), err.message, caplog.text):
        assert SECRET not in text
    assert "bad Bearer ***" in err.message
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err) and copy.message == err.message


def test_transport_errors_do_not_leak_the_key(caplog: pytest.LogCaptureFixture) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {request.headers['authorization']}")

    caplog.set_level(logging.DEBUG)
    client = ModelStudioClient(
        "https://x/api/v1",
        SECRET,
        transport=httpx.MockTransport(boom),
        max_retries=1,
        backoff_base=0.001,
    )
    with client, pytest.raises(ProviderConnectionError) as info:
        client.list_deployments()
    assert SECRET not in str(info.value) and SECRET not in caplog.text
    assert info.value.__cause__ is None  # the raw exception carried the key: not chained


def test_a_region_without_a_documented_host_is_refused_not_guessed() -> None:
    settings = Settings(provider={"region": "virginia", "api_key": SECRET})
    with pytest.raises(ConfigError, match="no DashScope deployments host") as info:
        make_client(settings)
    assert "maas.aliyuncs.com" in (info.value.hint or "")
    client = make_client(Settings(provider={"region": "beijing", "api_key": SECRET}))
    assert client.base_url == "https://dashscope.aliyuncs.com/api/v1"
    assert client.api_generation == "reservations" and client.ptu_unit == "ktpm"
    client.close()


def test_the_generation_and_its_unit_come_from_the_settings() -> None:
    legacy = make_client(Settings(provider={"api_generation": "legacy"}))
    assert (legacy.api_generation, legacy.ptu_unit) == ("legacy", "tpm")
    legacy.close()
    forced = make_client(Settings(provider={"ptu_wire_unit": "tpm"}))
    assert (forced.api_generation, forced.ptu_unit) == ("reservations", "tpm")
    forced.close()


@pytest.mark.parametrize("encoding", ["plain", "percent", "base64", "basic-auth"])
def test_an_echoed_key_is_redacted_in_any_encoding(encoding: str) -> None:
    import base64
    from urllib.parse import quote

    secret = "sk-live/9f8e+7d6c=5b4a"
    shown = {
        "plain": secret,
        "percent": quote(secret, safe=""),
        "base64": base64.b64encode(secret.encode()).decode(),
        "basic-auth": base64.b64encode(secret.encode()).decode().rstrip("="),
    }[encoding]
    transport = httpx.MockTransport(
        lambda r: httpx.Response(400, json={"code": "InvalidParameter", "message": f"key {shown}"})
    )
    client = ModelStudioClient("https://x/api/v1", secret, transport=transport)
    with client, pytest.raises(InvalidParameterError) as info:
        client.list_deployments()
    assert shown not in str(info.value) and "key ***" in info.value.message
