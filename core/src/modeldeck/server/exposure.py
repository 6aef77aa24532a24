"""Who may reach the server: open mode stays on loopback, and there acts as the server itself.

Open mode (no `[[principals]]`) has no authentication, so it is only safe where nobody else can
connect: the server refuses to bind anything but a loopback address unless principals (and so
tokens) are configured or `insecure_open_mode` is set, which warns on every start. A caller
without a token never names who acts: it acts as the server's own identity (the OS user running
it, or `server.open_mode_principal`), with every role, as on the same machine's CLI.
"""

from __future__ import annotations

import getpass
import ipaddress

from modeldeck.domain import Actor
from modeldeck.errors import ConfigError
from modeldeck.identity import ALL_ROLES
from modeldeck.settings import Settings

LOOPBACK_HOSTS = ("localhost", "ip6-localhost")
INSECURE_WARNING = (
    "WARNING: insecure open mode: no principals are configured and the server listens on {host}, "
    "so anyone who can reach it acts with every role. Configure [[principals]] and API tokens, "
    "or bind 127.0.0.1."
)


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, host: str) -> str | None:
    """Refuse open mode off loopback; the warning to print when it is explicitly allowed."""
    if settings.principals or is_loopback(host):
        return None
    if settings.server.insecure_open_mode:
        return INSECURE_WARNING.format(host=host)
    raise ConfigError(
        f"Refusing to serve open mode (no principals configured) on {host}: anyone who could "
        "reach it would act with every role.",
        hint="Configure [[principals]] and create API tokens (`modeldeck token create`), bind "
        "127.0.0.1, or pass --insecure-open-mode (MODELDECK_SERVER__INSECURE_OPEN_MODE=true).",
    )


def server_principal(settings: Settings) -> str:
    """The open-mode server's own identity: `server.open_mode_principal`, else the OS user."""
    if settings.server.open_mode_principal:
        return settings.server.open_mode_principal
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


def open_mode_actor(settings: Settings) -> Actor:
    """Who an unauthenticated open-mode API call acts as (never a name from the body)."""
    name = server_principal(settings)
    return Actor(principal=name, surface="api", roles=list(ALL_ROLES), external_id=name)
