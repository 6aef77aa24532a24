"""Who the CLI acts as: in team mode the principal of a presented API token, never a name from
the environment; and the rules for creating tokens (an admin's token, or `--bootstrap` once)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modeldeck.domain import Actor
from modeldeck.errors import PermissionDenied, UserError
from modeldeck.identity.permissions import require
from modeldeck.identity.principals import actor_for_principal, local_user, resolve_actor
from modeldeck.identity.tokens import principal_for
from modeldeck.settings import Settings
from modeldeck.store import Store
from modeldeck.store import tokens as token_rows

TOKEN_FILE = Path("~/.config/modeldeck/token")
HOW = (
    "Set MODELDECK_TOKEN to your API token, or put it in the file MODELDECK_TOKEN_FILE names "
    f"(default {TOKEN_FILE}); an admin creates it with `modeldeck token create <you>`."
)


def presented_token(settings: Settings) -> str | None:
    """The API token this CLI presents: MODELDECK_TOKEN, `[server] token`, or the token file
    (surrounding whitespace, e.g. a mounted file's trailing newline, stripped)."""
    raw = os.environ.get("MODELDECK_TOKEN")
    if not raw and settings.server.token is not None:
        raw = settings.server.token.get_secret_value()
    if not raw:
        path = Path(os.environ.get("MODELDECK_TOKEN_FILE") or TOKEN_FILE).expanduser()
        if path.is_file():
            raw = path.read_text(encoding="utf-8")
    token = (raw or "").strip()
    return token or None


def cli_actor(deck: Any, settings: Settings) -> Actor:
    """The CLI's actor. Over a server the token decides (the server says whom it names); on a
    team's store the token's principal; only open mode (no principals) uses the OS user."""
    if settings.server.url:
        # A token-bearing caller is whoever the token names, whatever name is passed here.
        return deck.resolve_actor("cli", local_user())
    token = presented_token(settings)
    if not settings.principals:
        return resolve_actor(settings, "cli", local_user())
    if token is None:
        raise PermissionDenied("In team mode the CLI acts as your API token's principal.", hint=HOW)
    store = deck.store if hasattr(deck, "store") else Store(settings.effective_database_url)
    return actor_for_principal(settings, principal_for(store, token), "cli")


def token_creator(store: Store, settings: Settings, principal: str, bootstrap: bool) -> str:
    """Who may create a token for `principal` on this store (their name, for the audit log).

    Team mode needs an admin's token; `bootstrap` creates the first admin's own token with
    local access to the store, and only while no admin holds a live token.
    """
    if not settings.principals:
        return principal  # open mode: no team to protect
    admins = {p.name for p in settings.principals if "admin" in p.roles}
    if bootstrap:
        if principal not in admins:
            raise UserError(
                f"--bootstrap creates the first admin's token; {principal!r} is not an admin.",
                hint='Give an admin\'s name (roles = ["admin"] in [[principals]]).',
            )
        with store.session() as session:
            live = [r for r in token_rows.all_tokens(session) if r.revoked_at is None]
        if any(r.principal in admins for r in live):
            raise PermissionDenied(
                "An admin already holds a token, so --bootstrap is closed.",
                hint="Ask an admin to create the token (with their MODELDECK_TOKEN).",
            )
        return principal
    token = presented_token(settings)
    if token is None:
        raise PermissionDenied(
            "Creating a token needs an admin's API token.",
            hint=HOW + " For the very first admin, run `modeldeck token create <admin> "
            "--bootstrap` where the store is.",
        )
    actor = actor_for_principal(settings, principal_for(store, token), "cli")
    require(actor, "configure")
    return actor.principal


def local_admin(store: Store, settings: Settings) -> str | None:
    """On a team's store, token management needs an admin's token (their name); open mode None."""
    if not settings.principals:
        return None
    token = presented_token(settings)
    if token is None:
        raise PermissionDenied("Managing tokens needs an admin's API token.", hint=HOW)
    actor = actor_for_principal(settings, principal_for(store, token), "cli")
    require(actor, "configure")
    return actor.principal
