"""Settings: where the TOML comes from, what overrides what, and that secrets stay secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from modeldeck.errors import ConfigError
from modeldeck.settings import load_settings


def test_defaults_use_sqlite_in_the_data_dir_and_the_sandbox(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == isolated_env
    assert settings.effective_database_url == f"sqlite:///{isolated_env / 'modeldeck.db'}"
    assert settings.uses_sandbox and not settings.slack.enabled


def test_config_file_precedence(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated_env.mkdir(parents=True)
    (isolated_env / "modeldeck.toml").write_text("[server]\nport = 7001\n")
    assert load_settings().server.port == 7001  # the data dir's file
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "modeldeck.toml").write_text("[server]\nport = 7002\n")
    monkeypatch.chdir(workdir)
    assert load_settings().server.port == 7002  # ./modeldeck.toml wins over the data dir's
    named = tmp_path / "named.toml"
    named.write_text("[server]\nport = 7003\n[policy]\nauto_approve_below_usd_per_day = 50\n")
    monkeypatch.setenv("MODELDECK_CONFIG", str(named))
    settings = load_settings()
    assert (
        settings.server.port == 7003 and str(settings.policy.auto_approve_below_usd_per_day) == "50"
    )
    monkeypatch.setenv("MODELDECK_SERVER__PORT", "7004")
    assert load_settings().server.port == 7004  # the environment wins over any file


def test_missing_named_config_and_bad_values_are_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELDECK_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="not a file"):
        load_settings()
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nport = "eighty"\n')
    monkeypatch.setenv("MODELDECK_CONFIG", str(bad))
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_settings()


def test_foreign_variables_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "https://dashscope-intl.aliyuncs.com/api/v1")
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-very-secret-key-123")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-bot-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret-xyz")
    settings = load_settings()
    assert not settings.uses_sandbox and settings.slack.enabled
    assert settings.provider.api_key is not None
    assert settings.provider.api_key.get_secret_value() == "sk-very-secret-key-123"
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    for secret in ("sk-very-secret-key-123", "xoxb-secret-bot-token", "signing-secret-xyz"):
        assert secret not in shown


def test_choosing_a_region_means_its_real_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    from modeldeck.provider.factory import make_client

    assert load_settings().uses_sandbox
    monkeypatch.setenv("MODELDECK_PROVIDER__REGION", "singapore")
    settings = load_settings()
    assert not settings.uses_sandbox
    with pytest.raises(ConfigError, match="needs an API key"):
        make_client(settings)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-region-test")
    client = make_client(load_settings())
    assert client.base_url == "https://dashscope-intl.aliyuncs.com/api/v1"
    client.close()
