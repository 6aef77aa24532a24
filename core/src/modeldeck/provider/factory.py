"""Build the provider from settings: the real endpoint, or the embedded sandbox when none is set."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from modeldeck.errors import ConfigError
from modeldeck.provider.base import Provider
from modeldeck.provider.client import ModelStudioClient
from modeldeck.settings import REGION_BASE_URLS, Settings

DEFAULT_KIND = "modelstudio"


def sandbox_base_url(settings: Settings) -> str:
    """The embedded sandbox's deployments base URL (`http://host:port/api/v1`)."""
    return f"http://{settings.sandbox.host}:{settings.sandbox.port}/api/v1"


def make_client(settings: Settings, **kwargs: Any) -> ModelStudioClient:
    """A client for Model Studio: `provider.base_url`, else the region's documented endpoint when
    `provider.region` is set, else the embedded sandbox.

    Extra keyword arguments go to :class:`ModelStudioClient` (e.g. ``transport``).
    """
    provider = settings.provider
    base_url, api_key = endpoint(settings)
    kwargs.setdefault("timeout", provider.timeout_seconds)
    kwargs.setdefault("max_retries", provider.max_retries)
    kwargs.setdefault("api_generation", provider.api_generation)
    kwargs.setdefault("ptu_wire_unit", provider.ptu_wire_unit)
    kwargs.setdefault("operation_timeout", provider.operation_timeout_seconds)
    return ModelStudioClient(base_url, api_key, workspace=provider.workspace, **kwargs)


def endpoint(settings: Settings) -> tuple[str, SecretStr]:
    """Model Studio's base URL (`…/api/v1`) and API key: the configured endpoint, the region's,
    or the embedded sandbox (the deployments client and the metering client share it)."""
    provider = settings.provider
    if settings.uses_sandbox:
        return sandbox_base_url(settings), provider.api_key or settings.sandbox.api_key
    base_url = provider.base_url or region_base_url(provider.region)
    if provider.api_key is None:
        raise ConfigError(
            f"Model Studio at {base_url} needs an API key, and none is set.",
            hint="Set DASHSCOPE_API_KEY (or [provider] api_key in modeldeck.toml).",
        )
    return base_url, provider.api_key


def region_base_url(region: str) -> str:
    """The documented deployments base URL of a region (beijing, singapore); a region without a
    documented DashScope host (virginia) is refused, never guessed."""
    if region == "virginia":
        raise ConfigError(
            "Model Studio documents no DashScope deployments host for the virginia region: its "
            "PTU reservations are served on the workspace host.",
            hint="Set provider.base_url to https://<workspaceId>.us-east-1.maas.aliyuncs.com "
            "(your workspace id), or choose region beijing or singapore.",
        )
    try:
        return REGION_BASE_URLS[region]
    except KeyError:
        raise ConfigError(
            f"Unknown Model Studio region {region!r}.",
            hint=f"Allowed: {', '.join(sorted(REGION_BASE_URLS))}.",
        ) from None


def get_provider(settings: Settings, kind: str | None = None) -> Provider:
    """The provider registered under `kind` (default ``modelstudio``) built from `settings`."""
    from modeldeck.plugins import hook
    from modeldeck.registry import collect

    registry = collect("provider", lambda register: hook().register_providers(register=register))
    name = kind or getattr(settings.provider, "kind", None) or DEFAULT_KIND
    factory = registry.items.get(name)
    if factory is None:
        raise ConfigError(
            f"No provider named {name!r} is registered.",
            hint=f"Registered: {', '.join(sorted(registry.items)) or 'none'}.",
        )
    provider: Provider = factory(settings)
    return provider
